<?php
// Pool-wide counts: connections, subscribers of ?channel=..., occupied channels.
header('Content-Type: application/json');
try {
    $channel = (string) ($_GET['channel'] ?? 'news');
    echo json_encode([
        'pid' => getmypid(),
        'connections' => Realtime\getConnectionCount(),
        'subscribers' => Realtime\getSubscriberCount($channel),
        'channels' => (object) Realtime\getChannels(),
    ]), "\n";
} catch (\Throwable $e) {
    http_response_code(500);
    echo json_encode(['error' => $e->getMessage(), 'class' => get_class($e), 'pid' => getmypid()]), "\n";
}
