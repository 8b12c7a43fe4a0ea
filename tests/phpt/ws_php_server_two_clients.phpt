--TEST--
php -S end to end: the hub runs from the start, two clients subscribe, a request to publish.php reaches both
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
$dir = rt_temp_dir('php-server-two-clients');
file_put_contents("$dir/index.php", '<?php $s = Realtime\status(); echo json_encode([$s["running"], $s["listen"], $s["pid"] === getmypid()]);');
file_put_contents("$dir/publish.php", '<?php
Realtime\broadcast($_GET["channel"], ["id" => (int) $_GET["id"], "title" => "Hello"], "article.published");
echo "published ", $_GET["id"];');
$httpPort = rt_free_port();
do {
    $wsPort = rt_free_port();
} while ($wsPort === $httpPort);

$server = new PhpServer($dir, $httpPort, ['realtime.listen' => "127.0.0.1:$wsPort"]);
$page = $server->waitReady('/index.php');
var_dump($page['status'], $page['body'] === json_encode([true, "127.0.0.1:$wsPort", true]));
$health = rt_wait_health($wsPort);
var_dump($health['status'], $health['pid'] === $server->pid);

$a = WsClient::connect($wsPort);
$b = WsClient::connect($wsPort);
$a->subscribe('news');
$b->subscribe('news');
$other = WsClient::connect($wsPort);
$other->subscribe('sports');
var_dump(rt_wait_health($wsPort)['connections'], rt_wait_health($wsPort)['channels']);

$ctx = stream_context_create(['http' => ['timeout' => RT_TIMEOUT]]);
echo file_get_contents("http://127.0.0.1:$httpPort/publish.php?channel=news&id=42", false, $ctx), "\n";
echo $a->recv(), "\n";
echo $b->recv(), "\n";
var_dump($other->silentFor(0.2));

/* A second request, in the same worker, reuses the hub. */
echo file_get_contents("http://127.0.0.1:$httpPort/publish.php?channel=sports&id=7", false, $ctx), "\n";
echo $other->recv(), "\n";

$st = $server->stop(9);
var_dump($st['running']);
/* A killed process sends no close frame: the clients see the TCP connection end (1006). */
var_dump($a->expectClose(), $b->waitEof());
rt_clean_dir($dir);
?>
--CLEAN--
<?php
require __DIR__ . '/ws_client.inc';
rt_clean_dir(sys_get_temp_dir() . '/realtime-phpt-php-server-two-clients');
?>
--EXPECT--
int(200)
bool(true)
string(2) "ok"
bool(true)
int(3)
int(2)
published 42
{"type":"message","channel":"news","event":"article.published","data":{"id":42,"title":"Hello"}}
{"type":"message","channel":"news","event":"article.published","data":{"id":42,"title":"Hello"}}
bool(true)
published 7
{"type":"message","channel":"sports","event":"article.published","data":{"id":7,"title":"Hello"}}
bool(false)
NULL
bool(true)
