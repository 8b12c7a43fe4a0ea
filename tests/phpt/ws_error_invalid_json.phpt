--TEST--
A text frame that is not JSON gets an invalid_json error reply; the connection stays usable
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.10:17709');
--INI--
pcre.jit=0
realtime.listen=127.77.0.10:17709
realtime.log=/dev/null
realtime.allow_anonymous=1
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
Realtime\start();
$c = WsClient::connect(rt_listen_addr());
foreach (['not json', '{"action":"subscribe",', '', '{"action":"ping","id":1,"id":2}'] as $text) {
    $c->send($text);
    $reply = $c->recvJson();
    echo json_encode($text), ': ', $reply['type'], ' ', $reply['code'], ' ', is_string($reply['message']) && $reply['message'] !== '' ? 'with a message' : 'without a message', ' ', array_key_exists('id', $reply) ? 'with id' : 'no id', "\n";
}
rt_show_still_usable($c);
Realtime\stop();
?>
--EXPECT--
"not json": error invalid_json with a message no id
"{\"action\":\"subscribe\",": error invalid_json with a message no id
"": error invalid_json with a message no id
"{\"action\":\"ping\",\"id\":1,\"id\":2}": error invalid_json with a message no id
ping: {"type":"pong","id":99}
delivery: {"type":"message","channel":"after-error","data":{"still":"open"}}
