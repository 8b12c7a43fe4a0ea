--TEST--
CLI daemon style: a string message arrives as a JSON string, exactly as given, to every subscriber
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.8:17707');
--INI--
pcre.jit=0
realtime.listen=127.77.0.8:17707
realtime.log=/dev/null
realtime.allow_anonymous=1
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
Realtime\start();
$a = WsClient::connect(rt_listen_addr());
$b = WsClient::connect(rt_listen_addr());
var_dump($a->connectionId !== $b->connectionId);
$a->subscribe('room#lobby');
$b->subscribe('room#lobby');
Realtime\broadcast('room#lobby', '{"a":1}', 'chat.message');
echo $a->recv(), "\n", $b->recv(), "\n";
Realtime\broadcast('room#lobby', "line1\nline2 \"quoted\" \u{1F600}");
$msg = json_decode($a->recv(), true);
var_dump($msg['data'] === "line1\nline2 \"quoted\" \u{1F600}", array_key_exists('event', $msg));
echo $b->recv(), "\n";
var_dump(Realtime\stop());
?>
--EXPECT--
bool(true)
{"type":"message","channel":"room#lobby","event":"chat.message","data":"{\"a\":1}"}
{"type":"message","channel":"room#lobby","event":"chat.message","data":"{\"a\":1}"}
bool(true)
bool(false)
{"type":"message","channel":"room#lobby","data":"line1\nline2 \"quoted\" 😀"}
bool(true)
