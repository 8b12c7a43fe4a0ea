<?php
// Realtime\broadcast() from a request.
//   channel   channel name
//   message   JSON text of the payload
//   event     optional event name
//   count     broadcast this many times, data {"seq": i, "data": payload} (default: once, the payload as is)
//   hold      milliseconds to keep the worker busy after broadcasting
// Answers {"ok":true,"pid":..,"node":..} or {"ok":false,"error":..,"class":..} with 500.
declare(strict_types=1);
header('Content-Type: application/json');
$in = $_POST + $_GET;
try {
    $message = json_decode((string) ($in['message'] ?? 'null'), false, 512, JSON_THROW_ON_ERROR);
    $event = isset($in['event']) && $in['event'] !== '' ? (string) $in['event'] : null;
    $count = isset($in['count']) ? max(1, (int) $in['count']) : 0;
    if ($count === 0) {
        Realtime\broadcast((string) ($in['channel'] ?? ''), $message, $event);
    } else {
        for ($i = 0; $i < $count; $i++) {
            Realtime\broadcast((string) ($in['channel'] ?? ''), ['seq' => $i, 'data' => $message], $event);
        }
    }
    $hold = (int) ($in['hold'] ?? 0);
    if ($hold > 0) {
        usleep(min($hold, 5000) * 1000);
    }
    echo json_encode(['ok' => true, 'pid' => getmypid(), 'node' => Realtime\status()['node_id']]), "\n";
} catch (\Throwable $e) {
    http_response_code(500);
    echo json_encode(['ok' => false, 'error' => $e->getMessage(), 'class' => get_class($e), 'pid' => getmypid()]), "\n";
}
