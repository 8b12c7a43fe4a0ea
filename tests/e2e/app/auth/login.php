<?php
// Login page of the test app: a real PHP session (files handler).
//
//   GET   a tiny HTML form
//   POST  name      required: who logs in (stored in the session)
//         id        user id (default: the name; "int:42" stores the integer 42)
//         info      JSON user info (default {"name": <name>})
//         channels  JSON list of private/presence channel patterns the user
//                   may join (default [])
//
// Answers {"ok":true,"user":{...}} and the session cookie (Set-Cookie), or
// 400 with {"ok":false,"error":...}. The auth endpoint (endpoint.php) reads
// the session this page starts.
declare(strict_types=1);

if (($_SERVER['REQUEST_METHOD'] ?? 'GET') !== 'POST') {
    header('Content-Type: text/html; charset=utf-8');
    echo '<!doctype html><title>Log in</title><form method="post">',
        '<input name="name" placeholder="Your name" required> <button>Log in</button></form>', "\n";
    return;
}

header('Content-Type: application/json');
header('Cache-Control: no-store');

function fail(string $error): never
{
    http_response_code(400);
    echo json_encode(['ok' => false, 'error' => $error]), "\n";
    exit;
}

function json_field(string $key, mixed $default): mixed
{
    if (!isset($_POST[$key]) || !is_string($_POST[$key])) {
        return $default;
    }
    try {
        return json_decode($_POST[$key], false, 64, JSON_THROW_ON_ERROR);
    } catch (JsonException $e) {
        fail("$key is not JSON: " . $e->getMessage());
    }
}

$name = $_POST['name'] ?? null;
if (!is_string($name) || $name === '') {
    fail('name is required');
}
$id = $_POST['id'] ?? $name;
if (!is_string($id)) {
    fail('id must be a string');
}
if (str_starts_with($id, 'int:')) {
    $id = (int) substr($id, 4);
}

session_start();
// A fresh session id on login (no session fixation).
session_regenerate_id(true);
$_SESSION['user'] = [
    'id' => $id,
    'info' => json_field('info', ['name' => $name]),
    'channels' => json_field('channels', []),
];
session_write_close();

echo json_encode(['ok' => true, 'user' => $_SESSION['user']], JSON_INVALID_UTF8_SUBSTITUTE), "\n";
