<?php
// Realtime\broadcast() from a request.
//   channel   channel name
//   message   JSON text of the payload
//   event     optional event name
//   count     broadcast this many times, data {"seq": i, "data": payload} (default: once, the payload as is)
//   gap       milliseconds between two of those broadcasts (at most 2000)
//   hold      milliseconds to keep the worker busy after broadcasting
// Answers {"ok":true,"pid":..,"node":..,"batched":..,"woke":..} (how many of
// this request's broadcasts left waking the other hubs to the worker's hub,
// and how many woke them themselves) or {"ok":false,"error":..,"class":..} with 500.
declare(strict_types=1);
header('Content-Type: application/json');
$in = $_POST + $_GET;
try {
    $message = json_decode((string) ($in['message'] ?? 'null'), false, 512, JSON_THROW_ON_ERROR);
    $event = isset($in['event']) && $in['event'] !== '' ? (string) $in['event'] : null;
    $count = isset($in['count']) ? max(1, (int) $in['count']) : 0;
    $gap = min(2000, max(0, (int) ($in['gap'] ?? 0)));
    $before = Realtime\status();
    if ($count === 0) {
        Realtime\broadcast((string) ($in['channel'] ?? ''), $message, $event);
    } else {
        for ($i = 0; $i < $count; $i++) {
            if ($i > 0 && $gap > 0) {
                usleep($gap * 1000);
            }
            Realtime\broadcast((string) ($in['channel'] ?? ''), ['seq' => $i, 'data' => $message], $event);
        }
    }
    $after = Realtime\status();
    $hold = (int) ($in['hold'] ?? 0);
    if ($hold > 0) {
        usleep(min($hold, 5000) * 1000);
    }
    echo json_encode(['ok' => true, 'pid' => getmypid(), 'node' => $after['node_id'],
        'batched' => $after['publish_batched'] - $before['publish_batched'],
        'woke' => $after['publish_wakeups'] - $before['publish_wakeups']]), "\n";
} catch (\Throwable $e) {
    http_response_code(500);
    echo json_encode(['ok' => false, 'error' => $e->getMessage(), 'class' => get_class($e), 'pid' => getmypid()]), "\n";
}
