<?php
// Test endpoint: calls Realtime\broadcast() with request parameters.
//
//   channel  channel name (passed through as given, so tests can send bad ones)
//   message  payload; sent as a PHP string unless json=1
//   json=1   json_decode() message first (objects stay objects)
//   event    optional event name (absent or empty: null)
//   count    broadcast the payload this many times in this request (default 1)
//   seq=1    with count: send ['seq' => $i, 'data' => $payload] instead
//
// Answers {"ok":true,"count":N}, or {"ok":false,"error":...,"class":...}
// with status 500 when anything throws.
declare(strict_types=1);

header('Content-Type: application/json');

function param(string $name): ?string
{
    $value = $_POST[$name] ?? $_GET[$name] ?? null;
    return is_string($value) ? $value : null;
}

$channel = param('channel') ?? '';
$message = param('message') ?? '';
$event = param('event');
if ($event === '') {
    $event = null;
}
$count = max(1, min(100000, (int) (param('count') ?? '1')));
$seq = param('seq') === '1';

try {
    if (param('json') === '1') {
        $message = json_decode($message, false, 512, JSON_THROW_ON_ERROR);
    }
    for ($i = 0; $i < $count; $i++) {
        Realtime\broadcast($channel, $seq ? ['seq' => $i, 'data' => $message] : $message, $event);
    }
    echo json_encode(['ok' => true, 'count' => $count]), "\n";
} catch (\Throwable $e) {
    http_response_code(500);
    echo json_encode(
        ['ok' => false, 'error' => $e->getMessage(), 'class' => get_class($e)],
        JSON_INVALID_UTF8_SUBSTITUTE
    ), "\n";
}
