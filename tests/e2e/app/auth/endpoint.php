<?php
// The auth endpoint (realtime.auth_endpoint) of the test app. The hub GETs
// it with the WebSocket client's Cookie and Authorization headers; it
// answers who the client is, from the PHP session login.php started:
//
//   200 {"user_id": ..., "user_info": ..., "channels": [...]}
//   401 {"error": "not logged in"} without a session
//
// Query parameters turn it into a misbehaving endpoint for the tests:
//   sleep_ms=N     wait N ms before answering
//   status=N       answer status N with a JSON error body
//   garbage=1      answer 200 with a body that is not JSON
//   no_user=1      answer 200 with a JSON object without user_id
//   authz=1        with "Authorization: App <id>", be user <id> (no session)
//
// Every request is counted in <session.save_path>/endpoint-hits.log so a
// test can see that (and with which headers) the hub called it.
declare(strict_types=1);

header('Content-Type: application/json');
header('Cache-Control: no-store');

$dir = session_save_path() ?: sys_get_temp_dir();
file_put_contents(
    "$dir/endpoint-hits.log",
    json_encode([
        'query' => $_GET,
        'cookie' => $_SERVER['HTTP_COOKIE'] ?? null,
        'authorization' => $_SERVER['HTTP_AUTHORIZATION'] ?? null,
        'user_agent' => $_SERVER['HTTP_USER_AGENT'] ?? null,
    ]) . "\n",
    FILE_APPEND | LOCK_EX
);

$sleep = (int) ($_GET['sleep_ms'] ?? 0);
if ($sleep > 0) {
    usleep(min($sleep, 10000) * 1000);
}
if (isset($_GET['status'])) {
    http_response_code((int) $_GET['status']);
    echo json_encode(['error' => 'as asked']), "\n";
    return;
}
if (($_GET['garbage'] ?? '') === '1') {
    echo "{\"user_id\": 1, oops this is not JSON\n";
    return;
}
if (($_GET['no_user'] ?? '') === '1') {
    echo json_encode(['user_info' => ['name' => 'nobody']]), "\n";
    return;
}

$authz = $_SERVER['HTTP_AUTHORIZATION'] ?? '';
if (($_GET['authz'] ?? '') === '1' && str_starts_with($authz, 'App ')) {
    echo json_encode(['user_id' => substr($authz, 4), 'user_info' => ['via' => 'authorization'], 'channels' => ['private-*']]), "\n";
    return;
}

// Only read the session: no lock is held while the hub waits for us, and a
// request without a session cookie does not create one.
$user = null;
if (isset($_COOKIE[session_name()])) {
    session_start(['read_and_close' => true]);
    $user = $_SESSION['user'] ?? null;
}
if (!is_array($user)) {
    http_response_code(401);
    echo json_encode(['error' => 'not logged in']), "\n";
    return;
}

echo json_encode([
    'user_id' => $user['id'],
    'user_info' => $user['info'],
    'channels' => $user['channels'],
], JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES), "\n";
