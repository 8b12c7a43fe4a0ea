<?php
// GET ?name=NAME: the page asks here for a token before each (re)connect:
// a signed Realtime\token() for NAME, if this browser is logged in with it,
// good for 10 minutes, allowed on the chat's presence channel. The hub
// checks it without calling PHP.
declare(strict_types=1);

require __DIR__ . '/session.php';

$name = demo_user($_GET['name'] ?? null);
if ($name === null) {
    demo_json(401, ['ok' => false, 'error' => 'Log in first.']);
}
if (!extension_loaded('realtime')) {
    demo_json(503, ['ok' => false, 'error' => 'The realtime extension is not loaded.']);
}
try {
    $token = Realtime\token($name, [
        'ttl' => 600,
        'info' => ['name' => $name],
        'channels' => [CHANNEL],
    ]);
} catch (Realtime\Exception $e) {
    demo_json(503, ['ok' => false, 'error' => $e->getMessage()]);
}
demo_json(200, ['ok' => true, 'token' => $token, 'user' => $name]);
