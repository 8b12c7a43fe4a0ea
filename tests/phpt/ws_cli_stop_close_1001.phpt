--TEST--
Realtime\stop() closes every client with 1001 (going away)
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.9:17708');
--INI--
pcre.jit=0
realtime.listen=127.77.0.9:17708
realtime.log=/dev/null
realtime.allow_anonymous=1
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
Realtime\start();
$a = WsClient::connect(rt_listen_addr());
$b = WsClient::connect(rt_listen_addr());
$a->subscribe('news');
var_dump(Realtime\status()['connections']);
$t = rt_now();
var_dump(Realtime\stop());
var_dump(rt_now() - $t < 2.0); /* well within realtime.shutdown_timeout (2000 ms) */
foreach ([$a, $b] as $c) {
    try {
        $c->recv();
        echo "got a message\n";
    } catch (WsClosed $e) {
        var_dump($e->closeCode, $e->reason);
    }
    var_dump($c->waitEof());
}
var_dump(Realtime\status()['running'], Realtime\status()['connections']);
?>
--EXPECT--
int(2)
bool(true)
bool(true)
int(1001)
string(20) "server shutting down"
bool(true)
int(1001)
string(20) "server shutting down"
bool(true)
bool(false)
int(0)
