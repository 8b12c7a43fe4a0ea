--TEST--
php -S with realtime.enabled=0 starts no hub: status() says so, nothing listens, broadcast() throws
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
$dir = rt_temp_dir('php-server-disabled');
file_put_contents("$dir/index.php", '<?php
$s = Realtime\status();
echo json_encode(["running" => $s["running"], "error" => $s["error"]]), "\n";
try {
    Realtime\broadcast("news", 1);
} catch (Realtime\Exception $e) {
    echo str_contains($e->getMessage(), "no hub") ? "no hub" : $e->getMessage();
}');
$httpPort = rt_free_port();
do {
    $wsPort = rt_free_port();
} while ($wsPort === $httpPort);
$server = new PhpServer($dir, $httpPort, ['realtime.listen' => "127.0.0.1:$wsPort", 'realtime.enabled' => '0']);
echo $server->waitReady('/index.php')['body'], "\n";
echo $server->waitReady('/index.php')['body'], "\n";
var_dump(rt_http_get($wsPort, '/health', [], 1.0));
$server->stop();
rt_clean_dir($dir);
?>
--CLEAN--
<?php
require __DIR__ . '/ws_client.inc';
rt_clean_dir(sys_get_temp_dir() . '/realtime-phpt-php-server-disabled');
?>
--EXPECT--
{"running":false,"error":null}
no hub
{"running":false,"error":null}
no hub
NULL
