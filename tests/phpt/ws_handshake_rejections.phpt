--TEST--
The hub answers bad WebSocket handshakes with HTTP errors (path, upgrade, key, version, origin)
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.14:17713');
--INI--
pcre.jit=0
realtime.listen=127.77.0.14:17713
realtime.log=/dev/null
realtime.allow_anonymous=1
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
Realtime\start();
$upgrade = ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13'];
$key = 'Sec-WebSocket-Key: ' . base64_encode(random_bytes(16));
$cases = [
    'wrong path' => ['/other', array_merge($upgrade, [$key])],
    'no upgrade' => ['/ws', []],
    'short key' => ['/ws', array_merge($upgrade, ['Sec-WebSocket-Key: dG9vIHNob3J0'])],
    'no key' => ['/ws', $upgrade],
    'version 8' => ['/ws', ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 8', $key]],
    'foreign origin' => ['/ws', array_merge($upgrade, [$key, 'Origin: http://evil.example'])],
];
foreach ($cases as $label => [$path, $headers]) {
    $res = rt_http_get(rt_listen_addr(), $path, $headers);
    echo str_pad($label, 15), $res['status'], $res['body'] === '' ? ' (no body)' : '', "\n";
}
/* Same host:port as Host is accepted with the default (empty) allowed_origins; a query string is ignored. */
$c = WsClient::connect(rt_listen_addr(), '/ws?v=1', ['Origin: http://127.77.0.14:17713']);
echo json_encode($c->request(['action' => 'ping'])), "\n";
var_dump(Realtime\status()['connections']);
Realtime\stop();
?>
--EXPECT--
wrong path     404
no upgrade     426
short key      400
no key         400
version 8      426
foreign origin 403
{"type":"pong"}
int(1)
