<?php
// Realtime\getChannelUsers(?channel=...) as seen from the worker that answers
// (?sleep=MS first, as in pid.php).
header('Content-Type: application/json');
$sleep = (int) ($_GET['sleep'] ?? 0);
if ($sleep > 0) {
    usleep(min($sleep, 5000) * 1000); // hold the worker: concurrent requests reach others
}
try {
    $users = Realtime\getChannelUsers((string) ($_GET['channel'] ?? ''));
    echo json_encode(['pid' => getmypid(), 'node' => Realtime\status()['node_id'], 'users' => $users]), "\n";
} catch (\Throwable $e) {
    http_response_code(500);
    echo json_encode(['error' => $e->getMessage(), 'class' => get_class($e), 'pid' => getmypid()]), "\n";
}
