<?php
// Realtime\broadcast() and Realtime\broadcastToUser() for the Pusher tests.
//
//   POST channel, message (JSON), event     -> Realtime\broadcast()
//   POST user, message (JSON), event        -> Realtime\broadcastToUser()
declare(strict_types=1);

header('Content-Type: application/json');

try {
    $message = json_decode((string) ($_POST['message'] ?? 'null'), true, 512, JSON_THROW_ON_ERROR);
    $event = isset($_POST['event']) && $_POST['event'] !== '' ? (string) $_POST['event'] : null;
    if (isset($_POST['user'])) {
        Realtime\broadcastToUser((string) $_POST['user'], $message, $event);
    } else {
        Realtime\broadcast((string) ($_POST['channel'] ?? ''), $message, $event);
    }
    echo json_encode(['ok' => true]), "\n";
} catch (\Throwable $e) {
    http_response_code(500);
    echo json_encode(['ok' => false, 'error' => $e->getMessage()]), "\n";
}
