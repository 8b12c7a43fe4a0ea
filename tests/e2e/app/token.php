<?php
// Token-issuing page of the test app: Realtime\token() for a JSON request.
//
//   POST {"user": <string or int>, "options": {...}}   (options optional)
//
// Answers {"ok":true,"token":"..."}, or {"ok":false,"class":...,"error":...}
// with status 400 (ValueError, TypeError) or 500 (anything else).
declare(strict_types=1);

header('Content-Type: application/json');
header('Cache-Control: no-store');

try {
    $request = json_decode((string) file_get_contents('php://input'), true, 64, JSON_THROW_ON_ERROR);
    if (!is_array($request) || !array_key_exists('user', $request)) {
        throw new ValueError('the request must be a JSON object with "user"');
    }
    $token = array_key_exists('options', $request)
        ? Realtime\token($request['user'], $request['options'])
        : Realtime\token($request['user']);
    echo json_encode(['ok' => true, 'token' => $token]), "\n";
} catch (\Throwable $e) {
    http_response_code($e instanceof ValueError || $e instanceof TypeError || $e instanceof JsonException ? 400 : 500);
    echo json_encode(
        ['ok' => false, 'class' => get_class($e), 'error' => $e->getMessage()],
        JSON_INVALID_UTF8_SUBSTITUTE
    ), "\n";
}
