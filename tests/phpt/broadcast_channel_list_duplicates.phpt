--TEST--
A channel named twice in Realtime\broadcast()'s list still delivers the message once to each subscriber
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.18:17717');
--INI--
pcre.jit=0
realtime.listen=127.77.0.18:17717
realtime.log=/dev/null
realtime.allow_anonymous=1
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
Realtime\start();
$c = WsClient::connect(rt_listen_addr());
$c->subscribe('x');
Realtime\broadcast(['x', 'x', 'x'], 'once');
Realtime\broadcast('x', 'next');
echo $c->recv(), "\n";
echo $c->recv(), "\n";
Realtime\stop();
?>
--EXPECT--
{"type":"message","channel":"x","data":"once"}
{"type":"message","channel":"x","data":"next"}
