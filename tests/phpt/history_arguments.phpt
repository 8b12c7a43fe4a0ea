--TEST--
Realtime\history(): bad arguments throw ValueError; without the server's history (a CLI process, no segment) it throws Realtime\Exception; broadcast() returns null where no position is known
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.7:17731');
--INI--
pcre.jit=0
realtime.listen=127.77.0.7:17731
realtime.log=/dev/null
realtime.allow_anonymous=1
realtime.history="chat-*:100:300"
--FILE--
<?php
function attempt(callable $f): void
{
    try {
        var_dump($f());
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
attempt(fn() => Realtime\history(''));
attempt(fn() => Realtime\history('chat-1', 0));
attempt(fn() => Realtime\history('chat-1', 100001));
attempt(fn() => Realtime\history('chat-1', 10, ['offset' => -1, 'epoch' => '0123456789abcdef']));
attempt(fn() => Realtime\history('chat-1', 10, ['offset' => 1]));
attempt(fn() => Realtime\history('chat-1', 10, ['offset' => 1, 'epoch' => 'zzzzzzzzzzzzzzzz']));
attempt(fn() => Realtime\history('chat-1', 10, ['offset' => '1', 'epoch' => '0123456789abcdef']));
/* No server on this host: nothing to read. */
attempt(fn() => Realtime\history('chat-1'));
/* A CLI daemon's hub is alone (no shared segment): no positions, the old null. */
var_dump(Realtime\start());
attempt(fn() => Realtime\broadcast('chat-1', 'x'));
attempt(fn() => Realtime\broadcast(['chat-1', 'news'], 'x'));
var_dump(Realtime\stop());
/* What the history lost: counted in status(), 0 where there is none. */
$s = Realtime\status();
var_dump($s['history_evicted_messages'], $s['history_evicted_channels'], $s['history_resets']);
?>
--EXPECTF--
ValueError: Realtime\history(): Argument #1 ($channel) must be a channel name of 1 to 200 characters from A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~
ValueError: Realtime\history(): Argument #2 ($limit) must be from 1 to 100000
ValueError: Realtime\history(): Argument #2 ($limit) must be from 1 to 100000
ValueError: Realtime\history(): Argument #3 ($since) must be null or ["offset" => int >= 0, "epoch" => string of 16 hex digits]
ValueError: Realtime\history(): Argument #3 ($since) must be null or ["offset" => int >= 0, "epoch" => string of 16 hex digits]
ValueError: Realtime\history(): Argument #3 ($since) must have an "epoch" of 16 hex digits
ValueError: Realtime\history(): Argument #3 ($since) must be null or ["offset" => int >= 0, "epoch" => string of 16 hex digits]
Realtime\Exception: Realtime\history(): this process cannot reach the server's history (no shared memory segment of 127.77.0.7:17731: %s)
bool(true)
NULL
array(2) {
  ["chat-1"]=>
  NULL
  ["news"]=>
  NULL
}
bool(true)
int(0)
int(0)
int(0)
