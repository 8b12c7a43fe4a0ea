<?php
// Realtime\status() of the worker that answers, with its pid and node
// (?sleep=MS first, as in pid.php, so concurrent requests reach others).
header('Content-Type: application/json');
$sleep = (int) ($_GET['sleep'] ?? 0);
if ($sleep > 0) {
    usleep(min($sleep, 5000) * 1000);
}
$status = Realtime\status();
echo json_encode(['pid' => getmypid(), 'node' => $status['node_id'], 'status' => $status]), "\n";
