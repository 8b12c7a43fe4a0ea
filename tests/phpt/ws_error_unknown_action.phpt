--TEST--
An unknown action gets an unknown_action error reply carrying the request id; the connection stays usable
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.11:17710');
--INI--
pcre.jit=0
realtime.listen=127.77.0.11:17710
realtime.log=/dev/null
realtime.allow_anonymous=1
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
Realtime\start();
$c = WsClient::connect(rt_listen_addr());
foreach ([['action' => 'publish', 'channel' => 'news', 'id' => 1], ['action' => 'Subscribe', 'channel' => 'news', 'id' => 'abc'],
        ['action' => 'PING']] as $req) {
    echo rt_reply($c->request($req)), "\n";
}
/* Not an action at all: invalid_message. */
echo rt_reply($c->request(['channel' => 'news', 'id' => 5])), "\n";
echo rt_reply($c->request(['action' => 7])), "\n";
echo rt_reply($c->request(['action' => 'subscribe', 'id' => 6])), "\n";
$c->send('[1,2]');
echo rt_reply($c->recvJson()), "\n";
rt_show_still_usable($c);
Realtime\stop();
?>
--EXPECT--
{"type":"error","id":1,"code":"unknown_action","message":"…"}
{"type":"error","id":"abc","code":"unknown_action","message":"…"}
{"type":"error","code":"unknown_action","message":"…"}
{"type":"error","id":5,"code":"invalid_message","message":"…"}
{"type":"error","code":"invalid_message","message":"…"}
{"type":"error","id":6,"code":"invalid_message","message":"…"}
{"type":"error","code":"invalid_message","message":"…"}
ping: {"type":"pong","id":99}
delivery: {"type":"message","channel":"after-error","data":{"still":"open"}}
