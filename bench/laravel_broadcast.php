<?php
// One Laravel event, broadcast N times from a CLI process of the app (a
// queue worker's place), three ways, µs per event (bench/laravel_broadcast.sh):
//   raw:    Realtime\broadcast() alone, what the driver calls;
//   driver: the realtime driver's broadcast() (Realtime\broadcast(), through
//           the pool's shared segment: no HTTP, no signing);
//   event:  event(new OrderShipped) with BROADCAST_DRIVER=realtime: the same
//           plus Laravel's dispatch (BroadcastEvent, channel formatting);
//   http:   the request the pusher driver makes for each event: a POST to
//           the hub's Pusher HTTP API (/apps/{id}/events), signed as Pusher's
//           SDK signs it, over a kept-alive connection. The SDK itself (not
//           in Debian) adds its own encoding and Guzzle on top: this is the
//           least the pusher driver can cost.
//
//   php bench/laravel_broadcast.php APP_DIR CALLS HTTP_CALLS HUB_PORT APP_ID KEY SECRET
[$self, $appDir, $calls, $httpCalls, $hubPort, $appId, $key, $secret] = $argv;
$calls = (int) $calls;
$httpCalls = (int) $httpCalls;

require $appDir . '/vendor/autoload.php';
$app = require $appDir . '/bootstrap/app.php';
$app->make(Illuminate\Contracts\Console\Kernel::class)->bootstrap();
$driver = $app->make(Illuminate\Broadcasting\BroadcastManager::class)->connection('realtime');
$payload = ['orderId' => 5, 'pid' => getmypid()];

function per_call(int $n, callable $fn): float
{
    for ($i = 0; $i < min(1000, $n); $i++) {
        $fn();
    }
    $t = hrtime(true);
    for ($i = 0; $i < $n; $i++) {
        $fn();
    }
    return (hrtime(true) - $t) / $n / 1000;
}

$rawUs = per_call($calls, fn () => Realtime\broadcast(['orders'], $payload, 'OrderShipped'));
$driverUs = per_call($calls, fn () => $driver->broadcast(['orders'], 'OrderShipped', $payload));
$eventUs = per_call($calls, fn () => event(new App\Events\OrderShipped(5, getmypid())));

// One kept-alive HTTP/1.1 connection, as the SDK's client keeps one.
$conn = stream_socket_client("tcp://127.0.0.1:$hubPort", $errno, $errstr, 5);
if ($conn === false) {
    fwrite(STDERR, "hub port $hubPort: $errstr\n");
    exit(1);
}
$path = "/apps/$appId/events";
$httpUs = per_call($httpCalls, function () use ($conn, $path, $key, $secret, $payload) {
    $body = json_encode(['name' => 'OrderShipped', 'data' => json_encode($payload), 'channels' => ['orders']]);
    $query = 'auth_key=' . $key . '&auth_timestamp=' . time() . '&auth_version=1.0&body_md5=' . md5($body);
    $signature = hash_hmac('sha256', "POST\n$path\n$query", $secret);
    fwrite($conn, "POST $path?$query&auth_signature=$signature HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        . "Content-Type: application/json\r\nContent-Length: " . strlen($body) . "\r\n\r\n" . $body);
    $head = '';
    while (!str_contains($head, "\r\n\r\n") && ($line = fgets($conn)) !== false) {
        $head .= $line;
    }
    $length = preg_match('/^Content-Length:\s*(\d+)/mi', $head, $m) ? (int) $m[1] : 0;
    $answer = $length > 0 ? stream_get_contents($conn, $length) : '';
    if (!str_starts_with($head, 'HTTP/1.1 200')) {
        fwrite(STDERR, "Pusher HTTP API answered: $head$answer\n");
        exit(1);
    }
});

echo json_encode([
    'publish_path' => Realtime\status()['publish_path'] ?? null,
    'calls' => $calls,
    'http_calls' => $httpCalls,
    'raw_us' => round($rawUs, 2),
    'driver_us' => round($driverUs, 2),
    'event_us' => round($eventUs, 2),
    'http_us' => round($httpUs, 2),
]), "\n";
