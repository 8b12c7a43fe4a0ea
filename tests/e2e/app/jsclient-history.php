<?php
// Realtime\history() for the JavaScript client's tests:
//   ?channel=..&limit=..[&offset=..&epoch=..]  (offset and epoch: since)
// Answers {"ok":true,"messages":[{offset, epoch, event, data}, ...]} or
// {"ok":false,"class":..,"error":..} with 500.
declare(strict_types=1);
header('Content-Type: application/json');
header('Cache-Control: no-store');
try {
    $since = isset($_GET['epoch']) ? ['offset' => (int) $_GET['offset'], 'epoch' => (string) $_GET['epoch']] : null;
    $messages = Realtime\history((string) ($_GET['channel'] ?? ''), (int) ($_GET['limit'] ?? 100), $since);
    echo json_encode(['ok' => true, 'messages' => $messages]), "\n";
} catch (\Throwable $e) {
    http_response_code(500);
    echo json_encode(['ok' => false, 'class' => get_class($e), 'error' => $e->getMessage()]), "\n";
}
