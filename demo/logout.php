<?php
// POST name: logs this browser out of name, closes name's open pages and
// goes back to the login page.
declare(strict_types=1);

require __DIR__ . '/session.php';

if (($_SERVER['REQUEST_METHOD'] ?? '') !== 'POST') {
    header('Allow: POST');
    demo_json(405, ['ok' => false, 'error' => 'Use POST.']);
}
$name = demo_user($_POST['name'] ?? null);
if ($name !== null) {
    demo_session();
    $_SESSION['names'] = array_values(array_diff((array) ($_SESSION['names'] ?? []), [$name]));
    if ($_SESSION['names'] === []) {
        $_SESSION = [];
        session_destroy();
    }
    session_write_close();
    // Close the user's open pages too (close code 4009): without the login
    // they get no new token, so they go to the login page.
    if (extension_loaded('realtime')) {
        try {
            Realtime\disconnectUser($name);
        } catch (Realtime\Exception $e) {
            // No hub running: nobody to disconnect.
        }
    }
}
header('Location: login.php', true, 303);
