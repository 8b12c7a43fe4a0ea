<?php
// Serves pusher-js's browser build from tests/e2e/node_modules.
declare(strict_types=1);

$file = __DIR__ . '/../../node_modules/pusher-js/dist/web/pusher.min.js';
if (!is_file($file)) {
    http_response_code(404);
    header('Content-Type: text/plain');
    echo "pusher-js is not installed: run npm ci in tests/e2e\n";
    return;
}
header('Content-Type: application/javascript');
header('Content-Length: ' . filesize($file));
readfile($file);
