<?php
// Shared by the demo's pages: the PHP session that says who is logged in.
//
// One browser shares one session across its tabs, and the demo lets each
// tab log in with its own name: the session keeps the names logged in from
// this browser, and a page acts as the name it was opened with (it sends
// that name along, and the server checks it is one of the session's).
declare(strict_types=1);

const NAME_MAX = 32;   // characters
const NAMES_MAX = 8;   // names one browser may be logged in with
const CHANNEL = 'presence-chat';

function demo_session_params(): void
{
    session_set_cookie_params(['httponly' => true, 'samesite' => 'Lax']);
}

/** Starts the session for writing (login, logout). */
function demo_session(): void
{
    if (session_status() !== PHP_SESSION_ACTIVE) {
        demo_session_params();
        session_start();
    }
}

/** The session's data, read without holding its lock; [] without a session. */
function demo_read_session(): array
{
    if (!isset($_COOKIE[session_name()])) {
        return [];
    }
    demo_session_params();
    session_start(['read_and_close' => true]);
    return $_SESSION;
}

/** The names logged in from this browser, oldest first. */
function demo_names(): array
{
    $names = demo_read_session()['names'] ?? [];
    return is_array($names) ? array_values(array_filter($names, 'is_string')) : [];
}

/** $name if this browser is logged in with it, else null. */
function demo_user(mixed $name): ?string
{
    return is_string($name) && in_array($name, demo_names(), true) ? $name : null;
}

/**
 * A display name from user input: one line, no control characters, 1 to
 * NAME_MAX characters; null if it is not acceptable. (As a user id it is
 * at most 128 bytes of UTF-8, what the hub accepts.)
 */
function demo_clean_name(mixed $value): ?string
{
    if (!is_string($value) || preg_match('//u', $value) !== 1) {
        return null;
    }
    $name = trim((string) preg_replace('/\s+/u', ' ', (string) preg_replace('/\p{Cc}/u', '', $value)));
    $length = (int) preg_match_all('/./us', $name);
    return $length >= 1 && $length <= NAME_MAX ? $name : null;
}

function demo_json(int $status, array $body): never
{
    http_response_code($status);
    header('Content-Type: application/json');
    header('Cache-Control: no-store');
    echo json_encode($body), "\n";
    exit;
}

function h(string $s): string
{
    return htmlspecialchars($s, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
}
