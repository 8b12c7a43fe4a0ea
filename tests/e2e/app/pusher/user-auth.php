<?php
// Pusher user authentication (pusher-js signin()) for the e2e tests, as the
// Pusher PHP SDK's authenticateUser computes it:
//
//   auth = "<key>:" . hash_hmac('sha256', "<socket_id>::user::<user_data>", secret)
//
// POST socket_id, and optional test parameters user_id and name.
declare(strict_types=1);

header('Content-Type: application/json');

$key = (string) ini_get('realtime.app_key');
$secret = (string) (ini_get('realtime.app_secret') ?: ini_get('realtime.secret'));
$socketId = (string) ($_POST['socket_id'] ?? '');

if (!preg_match('/\A\d+\.\d+\z/', $socketId)) {
    http_response_code(400);
    echo json_encode(['error' => 'socket_id is required']), "\n";
    return;
}
$userData = json_encode([
    'id' => (string) ($_POST['user_id'] ?? '1'),
    'user_info' => ['name' => (string) ($_POST['name'] ?? 'anonymous')],
]);
$signature = hash_hmac('sha256', "$socketId::user::$userData", $secret);
echo json_encode(['auth' => "$key:$signature", 'user_data' => $userData]), "\n";
