--TEST--
Realtime\start() on a port another socket holds throws Realtime\Exception naming realtime.listen and the port
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.5:17704');
--INI--
pcre.jit=0
realtime.listen=127.77.0.5:17704
realtime.log=/dev/null
realtime.allow_anonymous=1
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
/* A plain listening socket, without SO_REUSEPORT. */
$holder = stream_socket_server('tcp://127.77.0.5:17704', $errno, $errstr);
var_dump($holder !== false);
try {
    Realtime\start();
    echo "started\n";
} catch (Realtime\Exception $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
$s = Realtime\status();
var_dump($s['running'], $s['error']);
try {
    Realtime\broadcast('news', 1);
} catch (Realtime\Exception $e) {
    echo rt_no_hub($e), "\n";
}
ob_start();
phpinfo(INFO_MODULES);
echo preg_match('/^Hub => (.*)$/m', ob_get_clean(), $m) ? $m[1] : 'no Hub row', "\n";
/* Once the port is free, start() succeeds. */
fclose($holder);
var_dump(Realtime\start(), Realtime\status()['running'], Realtime\status()['error']);
var_dump(Realtime\stop());
?>
--EXPECT--
bool(true)
Realtime\Exception: Realtime\start(): cannot listen on 127.77.0.5:17704 (realtime.listen): address already in use
bool(false)
string(75) "cannot listen on 127.77.0.5:17704 (realtime.listen): address already in use"
no hub
cannot listen on 127.77.0.5:17704 (realtime.listen): address already in use
bool(true)
bool(true)
NULL
bool(true)
