<?php
// Calls one function of the Realtime PHP API for the tests.
//
//   POST {"fn": "broadcastToUser", "args": [...]}
//
// JSON objects in args arrive as PHP objects (stdClass), so a message
// {"a":1} stays a JSON object and [] stays a list. Answers
// {"ok":true,"result":...} (and "type": get_debug_type() of the result),
// or {"ok":false,"class":...,"error":...} with status 400 for argument
// errors (ValueError, TypeError) and 500 for anything else.
declare(strict_types=1);

header('Content-Type: application/json');
header('Cache-Control: no-store');

const FUNCTIONS = [
    'broadcast', 'broadcastToUser', 'send', 'disconnectUser', 'getChannelUsers',
    'getChannels', 'getConnectionCount', 'getSubscriberCount', 'status',
];

try {
    $request = json_decode((string) file_get_contents('php://input'), false, 64, JSON_THROW_ON_ERROR);
    $fn = $request->fn ?? null;
    $args = $request->args ?? [];
    if (!in_array($fn, FUNCTIONS, true) || !is_array($args)) {
        throw new ValueError('unknown function or args not a list');
    }
    $result = ('Realtime\\' . $fn)(...$args);
    echo json_encode(
        ['ok' => true, 'result' => $result, 'type' => get_debug_type($result)],
        JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR
    ), "\n";
} catch (\Throwable $e) {
    http_response_code($e instanceof ValueError || $e instanceof TypeError ? 400 : 500);
    echo json_encode(
        ['ok' => false, 'class' => get_class($e), 'error' => $e->getMessage()],
        JSON_INVALID_UTF8_SUBSTITUTE
    ), "\n";
}
