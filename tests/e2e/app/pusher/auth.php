<?php
// Pusher channel authorization for the e2e tests, computed the way the
// Pusher PHP SDK (authorizeChannel / authorizePresenceChannel) and Laravel's
// pusher broadcaster compute it:
//
//   private-*    auth = "<key>:" . hash_hmac('sha256', "<socket_id>:<channel>", secret)
//   presence-*   the same over "<socket_id>:<channel>:<channel_data>"
//   private-encrypted-*  also returns shared_secret for the client to decrypt
//
// POST socket_id, channel_name (pusher-js sends these), and optional test
// parameters: user_id, name (the presence member), deny=1 (answer 403),
// forge_socket_id (sign for another socket id, as a replayed answer would).
declare(strict_types=1);

header('Content-Type: application/json');

$key = (string) ini_get('realtime.app_key');
$secret = (string) (ini_get('realtime.app_secret') ?: ini_get('realtime.secret'));
$masterKey = base64_decode((string) getenv('PUSHER_ENCRYPTION_MASTER_KEY_BASE64'), true) ?: '';

$socketId = (string) ($_POST['socket_id'] ?? '');
$channel = (string) ($_POST['channel_name'] ?? '');

if (!preg_match('/\A\d+\.\d+\z/', $socketId) || $channel === '') {
    http_response_code(400);
    echo json_encode(['error' => 'socket_id and channel_name are required']), "\n";
    return;
}
if (($_POST['deny'] ?? '') === '1') {
    http_response_code(403);
    echo json_encode(['error' => 'forbidden']), "\n";
    return;
}
$signedFor = (string) ($_POST['forge_socket_id'] ?? $socketId);

if (str_starts_with($channel, 'presence-')) {
    $channelData = json_encode([
        'user_id' => (string) ($_POST['user_id'] ?? '1'),
        'user_info' => ['name' => (string) ($_POST['name'] ?? 'anonymous')],
    ]);
    $signature = hash_hmac('sha256', "$signedFor:$channel:$channelData", $secret);
    echo json_encode(['auth' => "$key:$signature", 'channel_data' => $channelData]), "\n";
    return;
}

$reply = ['auth' => $key . ':' . hash_hmac('sha256', "$signedFor:$channel", $secret)];
if (str_starts_with($channel, 'private-encrypted-')) {
    $reply['shared_secret'] = base64_encode(hash('sha256', $channel . $masterKey, true));
}
echo json_encode($reply), "\n";
