--TEST--
php -S stopped with SIGINT (Ctrl-C) shuts the hub down cleanly: clients get close code 1001
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
$dir = rt_temp_dir('php-server-sigint');
file_put_contents("$dir/index.php", '<?php echo Realtime\status()["running"] ? "hub running" : "no hub";');
$httpPort = rt_free_port();
do {
    $wsPort = rt_free_port();
} while ($wsPort === $httpPort);

$server = new PhpServer($dir, $httpPort, ['realtime.listen' => "127.0.0.1:$wsPort"]);
echo $server->waitReady('/index.php')['body'], "\n";
rt_wait_health($wsPort);
$c = WsClient::connect($wsPort);
$c->subscribe('news');

$st = $server->stop(2 /* SIGINT */);
var_dump($st['running']);
try {
    $c->recv();
    echo "got a message\n";
} catch (WsClosed $e) {
    var_dump($e->closeCode, $e->reason);
}
var_dump($c->waitEof());
rt_clean_dir($dir);
?>
--CLEAN--
<?php
require __DIR__ . '/ws_client.inc';
rt_clean_dir(sys_get_temp_dir() . '/realtime-phpt-php-server-sigint');
?>
--EXPECT--
hub running
bool(false)
int(1001)
string(20) "server shutting down"
bool(true)
