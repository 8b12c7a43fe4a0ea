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
     */
    function broadcast(string|array $channel, mixed $message, ?string $event = null, ?string $except = null): void {}

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
}
