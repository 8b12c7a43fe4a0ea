--TEST--
Realtime\start() in CLI starts a hub: status() reports it running on realtime.listen, GET /health answers
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.2:17701');
--INI--
pcre.jit=0
realtime.listen=127.77.0.2:17701
realtime.log=/dev/null
realtime.allow_anonymous=1
realtime.metrics_key=phpt-metrics-key-8d2e41
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
var_dump(Realtime\start());
$s = Realtime\status();
var_dump($s['running'], $s['listen'], $s['path'], $s['pid'] === getmypid(), $s['node_id'] > 0,
    $s['connections'], $s['channels'], $s['error']);
$health = rt_wait_health(rt_listen_addr());
var_dump($health['status'], $health['pid'] === getmypid(), $health['connections'], $health['channels']);
$other = rt_http_get(rt_listen_addr(), '/nope');
var_dump($other['status']);
var_dump(Realtime\stop());
?>
--EXPECT--
bool(true)
bool(true)
string(16) "127.77.0.2:17701"
string(3) "/ws"
bool(true)
bool(true)
int(0)
int(0)
NULL
string(2) "ok"
bool(true)
int(0)
int(0)
int(404)
bool(true)
