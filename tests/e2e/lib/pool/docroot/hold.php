<?php
// Holds the worker until the file ?until= names exists (a path under the
// system's temp dir, at most 60 s), then answers like pid.php: a test ends
// the request, and so the worker (pm.max_requests = 1), when it is ready.
header('Content-Type: application/json');
$until = (string) ($_GET['until'] ?? '');
$tmp = realpath(sys_get_temp_dir());
$dir = realpath(dirname($until));
if ($until === '' || $dir === false || $tmp === false || strpos($dir . '/', $tmp . '/') !== 0) {
    http_response_code(400);
    echo json_encode(['error' => 'until must name a file under ' . sys_get_temp_dir()]), "\n";
    return;
}
$deadline = microtime(true) + 60;
while (!file_exists($until) && microtime(true) < $deadline) {
    usleep(5000);
}
$status = Realtime\status();
echo json_encode([
    'pid' => getmypid(),
    'node' => $status['node_id'],
    'released' => file_exists($until),
]), "\n";
