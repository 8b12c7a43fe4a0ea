--TEST--
status() counts what is lost: a broadcast() the broker refuses throws and counts in dropped_broker_refused
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.1:17701');
--INI--
pcre.jit=0
realtime.listen=127.77.0.1:17701
realtime.secret=
--FILE--
<?php
$keys = ['dropped_ring_overrun', 'dropped_queue_full', 'dropped_broker_refused', 'dropped_undecodable', 'redis_local_only',
    'redis_unconfirmed', 'broker_outages', 'broker_connected'];
$s = Realtime\status();
foreach ($keys as $k) {
    echo $k, ': ', array_key_exists($k, $s) ? var_export($s[$k], true) : 'missing', "\n";
}
/* No hub here and no secret to publish to the server with: refused. */
for ($i = 0; $i < 3; $i++) {
    try {
        Realtime\broadcast('news', 'lost');
    } catch (Realtime\Exception $e) {
        echo get_class($e), "\n";
    }
}
echo 'refused: ', Realtime\status()['dropped_broker_refused'], "\n";
?>
--EXPECT--
dropped_ring_overrun: 0
dropped_queue_full: 0
dropped_broker_refused: 0
dropped_undecodable: 0
redis_local_only: 0
redis_unconfirmed: 0
broker_outages: 0
broker_connected: NULL
Realtime\Exception
Realtime\Exception
Realtime\Exception
refused: 3
