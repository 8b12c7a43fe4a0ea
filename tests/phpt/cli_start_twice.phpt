--TEST--
Realtime\start() when this process already runs a hub returns true and keeps the same hub
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.3:17702');
--INI--
pcre.jit=0
realtime.listen=127.77.0.3:17702
realtime.log=/dev/null
realtime.allow_anonymous=1
--FILE--
<?php
var_dump(Realtime\start());
$node = Realtime\status()['node_id'];
var_dump(Realtime\start());
var_dump(Realtime\start());
var_dump(Realtime\status()['running'], Realtime\status()['node_id'] === $node);
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
