--TEST--
Realtime\broadcast() to a list of channels delivers once per channel; the list is validated; $except skips one connection
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.17:17716');
--INI--
pcre.jit=0
realtime.listen=127.77.0.17:17716
realtime.log=/dev/null
realtime.allow_anonymous=1
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
foreach ([[], array_fill(0, 101, 'x'), ['ok', 'bad name'], ['ok', '']] as $list) {
    try {
        Realtime\broadcast($list, 1);
    } catch (ValueError $e) {
        echo count($list), ' channels: ', $e->getMessage(), "\n";
    }
}
Realtime\start();
$a = WsClient::connect(rt_listen_addr());
$b = WsClient::connect(rt_listen_addr());
foreach ([$a, $b] as $c) {
    $c->subscribe('x');
    $c->subscribe('y');
}
Realtime\broadcast(['x', 'y', 'nobody-here'], 1, 'e');
echo 'a: ', $a->recv(), ' ', $a->recv(), "\n";
echo 'b: ', $b->recv(), ' ', $b->recv(), "\n";
/* Keys do not matter; 100 channels is the most. */
Realtime\broadcast(['first' => 'y'] + array_map(fn($i) => "c$i", range(1, 99)), 2);
echo 'a: ', $a->recv(), "\n";
echo 'b: ', $b->recv(), "\n";
/* $except: every subscriber but that connection. */
Realtime\broadcast('x', 3, null, $a->connectionId);
echo 'b: ', $b->recv(), "\n";
Realtime\broadcast('x', 4);
echo 'a: ', $a->recv(), "\n";
echo 'b: ', $b->recv(), "\n";
Realtime\stop();
?>
--EXPECT--
0 channels: Realtime\broadcast(): Argument #1 ($channel) must name 1 to 100 channels
101 channels: Realtime\broadcast(): Argument #1 ($channel) must name 1 to 100 channels
2 channels: Realtime\broadcast(): Argument #1 ($channel) must be a channel name of 1 to 200 characters from A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~
2 channels: Realtime\broadcast(): Argument #1 ($channel) must be a channel name of 1 to 200 characters from A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~
a: {"type":"message","channel":"x","event":"e","data":1} {"type":"message","channel":"y","event":"e","data":1}
b: {"type":"message","channel":"x","event":"e","data":1} {"type":"message","channel":"y","event":"e","data":1}
a: {"type":"message","channel":"y","data":2}
b: {"type":"message","channel":"y","data":2}
b: {"type":"message","channel":"x","data":3}
a: {"type":"message","channel":"x","data":4}
b: {"type":"message","channel":"x","data":4}
