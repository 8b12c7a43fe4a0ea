<?php
// POST name + text: broadcasts a chat message to everyone on the chat
// channel, from name, which must be one this browser is logged in with.
declare(strict_types=1);

require __DIR__ . '/session.php';

const TEXT_MAX = 500;  // characters

if (($_SERVER['REQUEST_METHOD'] ?? '') !== 'POST') {
    header('Allow: POST');
    demo_json(405, ['ok' => false, 'error' => 'Use POST.']);
}
$name = demo_user($_POST['name'] ?? null);
if ($name === null) {
    demo_json(401, ['ok' => false, 'error' => 'Log in first.']);
}

$text = $_POST['text'] ?? null;
if (is_string($text) && preg_match('//u', $text) === 1) {
    // No control characters except newlines and tabs.
    $text = trim((string) preg_replace('/[^\P{Cc}\n\t]/u', '', $text));
} else {
    $text = '';
}
$length = (int) preg_match_all('/./us', $text);
if ($length < 1 || $length > TEXT_MAX) {
    demo_json(400, ['ok' => false, 'error' => 'A message is 1 to ' . TEXT_MAX . ' characters.']);
}

if (!extension_loaded('realtime')) {
    demo_json(503, ['ok' => false, 'error' => 'The realtime extension is not loaded.']);
}
try {
    Realtime\broadcast(CHANNEL, ['name' => $name, 'text' => $text, 'at' => time()], 'message');
} catch (Realtime\Exception $e) {
    demo_json(503, ['ok' => false, 'error' => 'Realtime hub unavailable: ' . $e->getMessage()]);
}
demo_json(200, ['ok' => true]);
