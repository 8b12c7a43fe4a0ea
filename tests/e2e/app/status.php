<?php
// Realtime\status() as JSON.
header('Content-Type: application/json');
try {
    echo json_encode(Realtime\status(), JSON_THROW_ON_ERROR), "\n";
} catch (\Throwable $e) {
    http_response_code(500);
    echo json_encode(['ok' => false, 'error' => $e->getMessage(), 'class' => get_class($e)]), "\n";
}
