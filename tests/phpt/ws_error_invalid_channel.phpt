--TEST--
Subscribing to an invalid channel name gets an invalid_channel error reply; the connection stays usable
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.12:17711');
--INI--
pcre.jit=0
realtime.listen=127.77.0.12:17711
realtime.log=/dev/null
realtime.allow_anonymous=1
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
Realtime\start();
$c = WsClient::connect(rt_listen_addr());
foreach (['', 'a b', 'news{1}', str_repeat('x', 201), 'café', 'a*b'] as $i => $channel) {
    $reply = $c->request(['action' => 'subscribe', 'channel' => $channel, 'id' => $i]);
    echo $reply['id'], ' ', $reply['type'], ' ', $reply['code'], "\n";
}
$reply = $c->request(['action' => 'unsubscribe', 'channel' => 'bad channel']);
echo $reply['type'], ' ', $reply['code'], ' ', rt_reply($reply), "\n";
/* The longest valid name works. */
$long = str_repeat('x', 200);
echo $c->request(['action' => 'subscribe', 'channel' => $long])['type'], "\n";
var_dump(Realtime\status()['channels']);
rt_show_still_usable($c);
Realtime\stop();
?>
--EXPECT--
0 error invalid_channel
1 error invalid_channel
2 error invalid_channel
3 error invalid_channel
4 error invalid_channel
5 error invalid_channel
error invalid_channel {"type":"error","code":"invalid_channel","message":"…"}
subscribed
int(1)
ping: {"type":"pong","id":99}
delivery: {"type":"message","channel":"after-error","data":{"still":"open"}}
