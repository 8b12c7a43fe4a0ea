--TEST--
After unsubscribe a client receives nothing more on that channel; unsubscribing twice is fine; the channel count follows
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.15:17714');
--INI--
pcre.jit=0
realtime.listen=127.77.0.15:17714
realtime.log=/dev/null
realtime.allow_anonymous=1
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
Realtime\start();
$c = WsClient::connect(rt_listen_addr());
$c->subscribe('news');
$c->subscribe('news'); /* twice: still one subscription */
$c->subscribe('other');
var_dump(Realtime\status()['channels']);
Realtime\broadcast('news', 1);
echo $c->recv(), "\n";
echo json_encode($c->request(['action' => 'unsubscribe', 'channel' => 'news', 'id' => 'u1'])), "\n";
echo json_encode($c->request(['action' => 'unsubscribe', 'channel' => 'news', 'id' => 'u2'])), "\n";
var_dump(Realtime\status()['channels']);
Realtime\broadcast('news', 2);
Realtime\broadcast('other', 3);
/* In order: had news 2 been delivered it would come first. */
echo $c->recv(), "\n";
Realtime\stop();
?>
--EXPECT--
int(2)
{"type":"message","channel":"news","data":1}
{"type":"unsubscribed","id":"u1","channel":"news"}
{"type":"unsubscribed","id":"u2","channel":"news"}
int(1)
{"type":"message","channel":"other","data":3}
