--TEST--
Realtime\stop() returns true when it stopped a hub, false when none ran; the port is released and start() works again
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.4:17703');
--INI--
pcre.jit=0
realtime.listen=127.77.0.4:17703
realtime.log=/dev/null
realtime.allow_anonymous=1
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
var_dump(Realtime\stop());
var_dump(Realtime\start());
rt_wait_health(rt_listen_addr());
var_dump(Realtime\stop());
var_dump(Realtime\stop());
var_dump(Realtime\status()['running'], Realtime\status()['error']);
var_dump(@stream_socket_client('tcp://127.77.0.4:17703', $errno, $errstr, 1.0));
try {
    Realtime\broadcast('news', 1);
} catch (Realtime\Exception $e) {
    echo rt_no_hub($e), "\n";
}
/* Start again after a stop. */
var_dump(Realtime\start(), Realtime\status()['running']);
var_dump(rt_wait_health(rt_listen_addr())['status']);
var_dump(Realtime\stop());
?>
--EXPECT--
bool(false)
bool(true)
bool(true)
bool(false)
bool(false)
NULL
bool(false)
no hub
bool(true)
bool(true)
string(2) "ok"
bool(true)
