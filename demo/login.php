<?php
// Log in with a name (no password: it is a demo). POST name: adds the name
// to this browser's PHP session and opens the chat as that name.
declare(strict_types=1);

require __DIR__ . '/session.php';

$error = null;
$name = '';
if (($_SERVER['REQUEST_METHOD'] ?? 'GET') === 'POST') {
    $name = is_string($_POST['name'] ?? null) ? $_POST['name'] : '';
    $clean = demo_clean_name($name);
    if ($clean === null) {
        http_response_code(400);
        $error = 'Your name must be 1 to ' . NAME_MAX . ' characters.';
    } else {
        demo_session();
        // A new session id at every login (no session fixation).
        session_regenerate_id(true);
        $names = array_values(array_diff((array) ($_SESSION['names'] ?? []), [$clean]));
        $names[] = $clean;
        $_SESSION['names'] = array_slice($names, -NAMES_MAX);
        session_write_close();
        // The page opens as this name; other tabs keep theirs.
        header('Location: ./?as=' . rawurlencode($clean), true, 303);
        exit;
    }
}
$names = demo_names();
header('Content-Type: text/html; charset=utf-8');
?><!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Log in · realtime chat demo</title>
<style>
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: #f6f7f9; color: #1d2330;
    font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  form { background: #fff; border: 1px solid #e3e6eb; border-radius: 12px; padding: 24px; width: min(360px, 90vw);
    display: flex; flex-direction: column; gap: 12px; }
  h1 { font-size: 20px; margin: 0; }
  p { margin: 0; color: #6b7280; font-size: 14px; }
  input, button { font: inherit; padding: 9px 11px; border-radius: 8px; border: 1px solid #e3e6eb; }
  button { background: #2563eb; border-color: #2563eb; color: #fff; cursor: pointer; }
  .error { color: #b91c1c; }
  a { color: #2563eb; }
</style>
</head>
<body>
<form method="post" action="login.php">
  <h1>realtime chat</h1>
  <p>Pick a name to join. Anyone with the same name is the same person; another tab may log in with another name.</p>
<?php if ($error !== null): ?>
  <p class="error" role="alert"><?= h($error) ?></p>
<?php endif; ?>
  <input name="name" value="<?= h($name) ?>" placeholder="Your name" maxlength="<?= NAME_MAX ?>" required autofocus>
  <button type="submit">Join the chat</button>
<?php if ($names !== []): ?>
  <p>Or continue as
<?php foreach ($names as $i => $known): ?>
    <?= $i > 0 ? '· ' : '' ?><a href="./?as=<?= h(rawurlencode($known)) ?>"><?= h($known) ?></a>
<?php endforeach; ?>
  </p>
<?php endif; ?>
</form>
</body>
</html>
