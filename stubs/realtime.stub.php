<?php

/**
 * @generate-class-entries
 * @generate-function-entries
 */

namespace Realtime {
    /** Thrown when the hub cannot do what was asked (not running, data that cannot be sent, no answer in time). */
    class Exception extends \RuntimeException {}

    /**
     * Sends $message to every subscriber of $channel (or of each channel of a list).
     * A string is delivered as a JSON string, as is; any other value is JSON-encoded here.
     * $except is a connection id (the sender's, as its client learned it) not to deliver to.
     * Returns where the message stands in the channel's history (realtime.history) on the
     * memory broker: ["offset" => int, "epoch" => string] for one channel, or null; for a list,
     * [channel => position or null, ...].
     */
    function broadcast(string|array $channel, mixed $message, ?string $event = null, ?string $except = null): ?array {}

    /**
     * The last $limit messages of a channel with history, oldest first, or with $since
     * (["offset" => int, "epoch" => string]) the first $limit after it: a list of
     * ["offset" => int, "epoch" => string, "event" => ?string, "data" => mixed].
     * Throws Realtime\Exception when $since is no longer covered (trimmed, or a new epoch).
     */
    function history(string $channel, int $limit = 100, ?array $since = null): array {}

    /** Sends $message to every connection of a user. */
    function broadcastToUser(int|string $userId, mixed $message, ?string $event = null): void {}

    /** Sends $message to one connection, by the id its client was given. */
    function send(string $connectionId, mixed $message, ?string $event = null): void {}

    /** Closes every connection of a user with close code 4009. */
    function disconnectUser(int|string $userId): void {}

    /** The users subscribed to a channel: a list of ["id" => string, "info" => mixed]. */
    function getChannelUsers(string $channel): array {}

    /** Occupied channels, as channel name => number of subscribed connections. */
    function getChannels(): array {}

    /** Open WebSocket connections. */
    function getConnectionCount(): int {}

    /** Connections subscribed to a channel. */
    function getSubscriberCount(string $channel): int {}

    /**
     * A signed token a client passes on connect (?token=...) to be $userId.
     * Options: "ttl" (seconds, default 3600), "info" (user info, any JSON value),
     * "channels" (names or patterns with * of private and presence channels it may join).
     */
    function token(int|string $userId, array $options = []): string {}

    /**
     * The answer of a Pusher channel-authorization endpoint for $socketId on a private- or
     * presence- channel: ["auth" => "<app key>:<hex HMAC-SHA256>"] signed with the app's
     * secret (realtime.app_secret, else realtime.secret), plus "channel_data" for presence.
     */
    function pusherAuth(string $socketId, string $channel, ?string $channelData = null): array {}

    /** The answer of a Pusher user-authentication endpoint (pusher:signin): ["auth", "user_data"]. */
    function pusherUserAuth(string $socketId, string $userData): array {}

    /** Starts a hub in this process (long-running CLI scripts); true when one is running. */
    function start(): bool {}

    /** Closes every client with 1001 and stops this process's hub; false when none ran. */
    function stop(): bool {}

    /** The hub of this process: running, pid, listen, connections, channels and counters. */
    function status(): array {}

    /**
     * broadcast() that returns only once the broker has the message. On the redis broker,
     * broadcast() hands the message to this process's hub and returns at once; this waits
     * for Redis's answer to every PUBLISH (at most realtime.redis_timeout ms) and throws
     * Realtime\Exception when Redis refused or lost it. Returns true (the message's position,
     * as broadcast() gives it, where the broker knows one).
     */
    function broadcastConfirmed(string|array $channel, mixed $message, ?string $event = null, ?string $except = null): array|true {}
}
