<?php
// First PHP request of a test server: the realtime hub starts with it.
header('Content-Type: application/json');
echo json_encode(['ok' => true, 'pid' => getmypid()]), "\n";
