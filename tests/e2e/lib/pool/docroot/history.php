<?php
// Realtime\history() and the positions Realtime\broadcast() returns, from a
// request (tests/e2e/history.test.mjs).
//   op=broadcast  channel (or channels=a,b), message: answers {"ok":true,"result":<broadcast()'s return>}
//   op=history    channel, limit, since_offset + since_epoch: answers {"ok":true,"result":<history()>}
// Failures: {"ok":false,"class":..,"error":..} with 500.
declare(strict_types=1);
header('Content-Type: application/json');
$in = $_POST + $_GET;
try {
    $op = (string) ($in['op'] ?? '');
    if ($op === 'broadcast') {
        $to = isset($in['channels']) ? explode(',', (string) $in['channels']) : (string) ($in['channel'] ?? '');
        $result = Realtime\broadcast($to, json_decode((string) ($in['message'] ?? 'null'), true), $in['event'] ?? null);
    } elseif ($op === 'history') {
        $since = isset($in['since_offset'])
            ? ['offset' => (int) $in['since_offset'], 'epoch' => (string) ($in['since_epoch'] ?? '')] : null;
        $result = Realtime\history((string) ($in['channel'] ?? ''), (int) ($in['limit'] ?? 100), $since);
    } else {
        throw new InvalidArgumentException('op=broadcast|history');
    }
    echo json_encode(['ok' => true, 'result' => $result]), "\n";
} catch (\Throwable $e) {
    http_response_code(500);
    echo json_encode(['ok' => false, 'class' => get_class($e), 'error' => $e->getMessage()]), "\n";
}
