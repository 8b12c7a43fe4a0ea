--TEST--
redis broker without a hub: broadcast() and broadcastConfirmed() take the synchronous path (a refused Redis throws at once), status() has the redis_publish_* keys, broadcastConfirmed() checks its arguments as broadcast() does
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
realtime.broker=redis
realtime.redis_address=127.0.0.1:1
realtime.redis_timeout=300
--FILE--
<?php
$s = Realtime\status();
foreach (['redis_publish_handed', 'redis_publish_failed', 'redis_publish_dropped', 'redis_publish_waiting', 'publish_path'] as $k) {
    echo $k, ': ', array_key_exists($k, $s) ? var_export($s[$k], true) : 'missing', "\n";
}
foreach (['Realtime\broadcast', 'Realtime\broadcastConfirmed'] as $f) {
    $t = hrtime(true);
    try {
        $f('news', 'lost');
        echo "no exception\n";
    } catch (Realtime\Exception $e) {
        echo get_class($e), ': ', preg_match('/cannot connect to Redis at 127\.0\.0\.1:1 \(realtime\.redis_address\)/', $e->getMessage()) ? 'names the address' : $e->getMessage(), "\n";
    }
    echo 'fast: ', var_export((hrtime(true) - $t) / 1e6 < 300, true), "\n";
}
try {
    Realtime\broadcastConfirmed('bad channel!', 1);
} catch (ValueError $e) {
    echo $e->getMessage(), "\n";
}
try {
    Realtime\broadcastConfirmed('news');
} catch (ArgumentCountError $e) {
    echo $e->getMessage(), "\n";
}
echo 'handed: ', Realtime\status()['redis_publish_handed'], "\n";
?>
--EXPECTF--
redis_publish_handed: 0
redis_publish_failed: 0
redis_publish_dropped: 0
redis_publish_waiting: 0
publish_path: 'redis'
Realtime\Exception: names the address
fast: true
Realtime\Exception: names the address
fast: true
Realtime\broadcastConfirmed(): Argument #1 ($channel) must be a channel name of 1 to %d characters from A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~
Realtime\broadcastConfirmed() expects at least 2 arguments, 1 given
handed: 0
