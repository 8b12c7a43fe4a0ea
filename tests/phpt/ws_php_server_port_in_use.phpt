--TEST--
php -S whose hub cannot bind realtime.listen keeps serving PHP; status() and the log give the reason
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
$dir = rt_temp_dir('php-server-port-in-use');
file_put_contents("$dir/index.php", '<?php
$s = Realtime\status();
echo json_encode(["running" => $s["running"], "error" => $s["error"]], JSON_UNESCAPED_SLASHES);');
$holder = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
$name = stream_socket_get_name($holder, false);
$wsPort = (int) substr($name, strrpos($name, ':') + 1);
do {
    $httpPort = rt_free_port();
} while ($wsPort === $httpPort);
$server = new PhpServer($dir, $httpPort, ['realtime.listen' => "127.0.0.1:$wsPort", 'realtime.log' => "$dir/hub.log"]);
$page = $server->waitReady('/index.php');
echo $page['status'], ' ', str_replace((string) $wsPort, 'PORT', $page['body']), "\n";
echo str_replace((string) $wsPort, 'PORT', preg_replace('/^\[[^\]]+\] realtime\[\d+\] /m', '', file_get_contents("$dir/hub.log")));
$server->stop();
fclose($holder);
rt_clean_dir($dir);
?>
--CLEAN--
<?php
require __DIR__ . '/ws_client.inc';
rt_clean_dir(sys_get_temp_dir() . '/realtime-phpt-php-server-port-in-use');
?>
--EXPECT--
200 {"running":false,"error":"cannot listen on 127.0.0.1:PORT (realtime.listen): address already in use"}
error: hub not started: cannot listen on 127.0.0.1:PORT (realtime.listen): address already in use; PHP keeps serving, next try in 5 s
