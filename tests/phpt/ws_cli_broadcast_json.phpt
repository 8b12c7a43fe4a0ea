--TEST--
CLI daemon style: a client of this process's hub receives a broadcast as the exact JSON message
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.7:17706');
--INI--
pcre.jit=0
realtime.listen=127.77.0.7:17706
realtime.log=/dev/null
realtime.allow_anonymous=1
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
var_dump(Realtime\start());
$c = WsClient::connect(rt_listen_addr());
var_dump((bool) preg_match('/^\S+$/', $c->connectionId));
var_dump($c->request(['action' => 'subscribe', 'channel' => 'news']));
Realtime\broadcast('news', ['a' => 1], 'e');
echo $c->recv(), "\n";
/* Other channels do not reach it. */
Realtime\broadcast('sports', ['a' => 2], 'e');
Realtime\broadcast('news', ['a' => 3]);
echo $c->recv(), "\n";
$s = Realtime\status();
var_dump($s['connections'], $s['channels']);
var_dump($c->close());
var_dump(Realtime\stop());
?>
--EXPECT--
bool(true)
bool(true)
array(2) {
  ["type"]=>
  string(10) "subscribed"
  ["channel"]=>
  string(4) "news"
}
{"type":"message","channel":"news","event":"e","data":{"a":1}}
{"type":"message","channel":"news","data":{"a":3}}
int(1)
int(1)
int(1000)
bool(true)
