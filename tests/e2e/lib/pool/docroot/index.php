<?php
// Front controller of the pool tests' docroot (nginx's try_files falls back here).
header('Content-Type: application/json');
echo json_encode(['ok' => true, 'pid' => getmypid()]), "\n";
