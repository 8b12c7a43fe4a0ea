--TEST--
Messages broadcast just before Realtime\stop() are delivered, in order, before the 1001 close
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.16:17715');
--INI--
pcre.jit=0
realtime.listen=127.77.0.16:17715
realtime.log=/dev/null
realtime.allow_anonymous=1
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
Realtime\start();
$c = WsClient::connect(rt_listen_addr());
$c->subscribe('news');
for ($i = 1; $i <= 100; $i++) {
    Realtime\broadcast('news', $i);
}
Realtime\stop();
$got = [];
try {
    for (;;) {
        $got[] = json_decode($c->recv(), true)['data'];
    }
} catch (WsClosed $e) {
    echo 'close ', $e->closeCode, "\n";
}
var_dump($got === range(1, 100));
?>
--EXPECT--
close 1001
bool(true)
