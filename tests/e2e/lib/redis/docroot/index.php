<?php
// First request of a redis test server: starts this process's hub.
header('Content-Type: application/json');
$status = Realtime\status();
echo json_encode(['ok' => true, 'pid' => getmypid(), 'node' => $status['node_id'], 'running' => $status['running']]), "\n";
