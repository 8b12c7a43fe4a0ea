--TEST--
Past realtime.max_subscriptions a subscribe gets too_many_subscriptions; re-subscribing and unsubscribing still work
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.13:17712');
--INI--
pcre.jit=0
realtime.listen=127.77.0.13:17712
realtime.log=/dev/null
realtime.allow_anonymous=1
realtime.max_subscriptions=2
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
Realtime\start();
$c = WsClient::connect(rt_listen_addr());
$req = fn(string $action, string $channel, int $id) => rt_reply($c->request(['action' => $action, 'channel' => $channel, 'id' => $id]));
echo $req('subscribe', 'a', 1), "\n";
echo $req('subscribe', 'b', 2), "\n";
echo $req('subscribe', 'c', 3), "\n";
/* Already on it: still fine at the limit. */
echo $req('subscribe', 'a', 4), "\n";
/* The refused channel delivers nothing; the others do. */
Realtime\broadcast('c', 'to c');
Realtime\broadcast('b', 'to b');
echo $c->recv(), "\n";
/* Leaving one makes room. */
echo $req('unsubscribe', 'a', 5), "\n";
echo $req('subscribe', 'c', 6), "\n";
Realtime\broadcast('c', 'to c again');
echo $c->recv(), "\n";
/* Another connection has its own allowance. */
$d = WsClient::connect(rt_listen_addr());
$d->subscribe('x');
$d->subscribe('y');
var_dump(Realtime\status()['channels']);
echo json_encode($c->request(['action' => 'ping'])), "\n";
Realtime\stop();
?>
--EXPECT--
{"type":"subscribed","id":1,"channel":"a"}
{"type":"subscribed","id":2,"channel":"b"}
{"type":"error","id":3,"code":"too_many_subscriptions","message":"…"}
{"type":"subscribed","id":4,"channel":"a"}
{"type":"message","channel":"b","data":"to b"}
{"type":"unsubscribed","id":5,"channel":"a"}
{"type":"subscribed","id":6,"channel":"c"}
{"type":"message","channel":"c","data":"to c again"}
int(4)
{"type":"pong"}
