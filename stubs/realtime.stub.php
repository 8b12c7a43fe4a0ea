<?php

/**
 * @generate-class-entries
 * @generate-function-entries
 */

namespace Realtime {
    /** Thrown when the hub cannot do what was asked (not running, data that cannot be sent). */
    class Exception extends \RuntimeException {}

    /**
     * Sends $message to every subscriber of $channel. A string is delivered
     * as a JSON string, as is; any other value is JSON-encoded here.
     */
    function broadcast(string $channel, mixed $message, ?string $event = null): void {}

    /** Starts a hub in this process (long-running CLI scripts); true when one is running. */
    function start(): bool {}

    /** Closes every client with 1001 and stops this process's hub; false when none ran. */
    function stop(): bool {}

    /** The hub of this process: running, pid, listen, connections, channels and counters. */
    function status(): array {}
}
