<?php
// Realtime\send() to one connection by its id (?id=..&message=JSON).
// Answers {"ok":true,"pid":..} or {"ok":false,"error":..} with 500.
declare(strict_types=1);
header('Content-Type: application/json');
$in = $_POST + $_GET;
try {
    $message = json_decode((string) ($in['message'] ?? 'null'), false, 512, JSON_THROW_ON_ERROR);
    Realtime\send((string) ($in['id'] ?? ''), $message);
    echo json_encode(['ok' => true, 'pid' => getmypid()]), "\n";
} catch (\Throwable $e) {
    http_response_code(500);
    echo json_encode(['ok' => false, 'error' => $e->getMessage()]), "\n";
}
