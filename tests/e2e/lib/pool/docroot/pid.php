<?php
// Which worker answered, and its hub's node id (the part of connection ids
// before the dot). ?sleep=MS holds the worker that long first, so concurrent
// requests reach different workers.
header('Content-Type: application/json');
$sleep = (int) ($_GET['sleep'] ?? 0);
if ($sleep > 0) {
    usleep(min($sleep, 60000) * 1000);
}
$status = Realtime\status();
echo json_encode([
    'pid' => getmypid(),
    'node' => $status['node_id'],
    'running' => $status['running'],
    'error' => $status['error'],
]), "\n";
