<?php
// POST name + text: broadcasts a chat message to everyone on channel "chat".
declare(strict_types=1);

header('Content-Type: application/json');
header('Cache-Control: no-store');

const NAME_MAX = 32;   // characters
const TEXT_MAX = 500;  // characters

function reply(int $status, array $body): never
{
    http_response_code($status);
    echo json_encode($body), "\n";
    exit;
}

/** Trimmed string field, or null if missing, not a string, or not UTF-8. */
function field(string $key): ?string
{
    $value = $_POST[$key] ?? null;
    if (!is_string($value) || preg_match('//u', $value) !== 1) {
        return null;
    }
    // No control characters except newlines and tabs in the text.
    $value = preg_replace('/[^\P{Cc}\n\t]/u', '', $value);
    return trim($value);
}

/** Length in characters (the string is known to be valid UTF-8). */
function chars(string $s): int
{
    return (int) preg_match_all('/./us', $s);
}

if (($_SERVER['REQUEST_METHOD'] ?? '') !== 'POST') {
    header('Allow: POST');
    reply(405, ['ok' => false, 'error' => 'Use POST.']);
}

$name = field('name');
$text = field('text');

if ($name === null || $name === '' || chars($name) > NAME_MAX) {
    reply(400, ['ok' => false, 'error' => 'Name must be 1 to ' . NAME_MAX . ' characters.']);
}
// A name is one line.
$name = preg_replace('/\s+/u', ' ', $name);
if ($text === null || $text === '' || chars($text) > TEXT_MAX) {
    reply(400, ['ok' => false, 'error' => 'Message must be 1 to ' . TEXT_MAX . ' characters.']);
}

if (!extension_loaded('realtime')) {
    reply(503, ['ok' => false, 'error' => 'The realtime extension is not loaded.']);
}

try {
    Realtime\broadcast('chat', ['name' => $name, 'text' => $text, 'at' => time()], 'message');
} catch (Realtime\Exception $e) {
    reply(503, ['ok' => false, 'error' => 'Realtime hub unavailable: ' . $e->getMessage()]);
}

reply(200, ['ok' => true]);
