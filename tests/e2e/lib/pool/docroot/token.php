<?php
// A connection token for ?user=ID (with info.name = ?name=...), allowed on presence-* channels.
header('Content-Type: application/json');
try {
    $user = (string) ($_GET['user'] ?? '');
    $token = Realtime\token($user, [
        'channels' => ['presence-*'],
        'info' => ['name' => (string) ($_GET['name'] ?? $user)],
        'ttl' => 600,
    ]);
    echo json_encode(['token' => $token, 'pid' => getmypid()]), "\n";
} catch (\Throwable $e) {
    http_response_code(500);
    echo json_encode(['error' => $e->getMessage(), 'class' => get_class($e)]), "\n";
}
