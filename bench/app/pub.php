<?php
// Publish endpoint for the load generator:
//   POST /pub.php?p=<prefix>&from=<first>&n=<channels>&count=<messages>, body = payload
// broadcasts `count` messages to each of channels prefix.first .. prefix.(first+n-1)
// and answers {"calls":N,"ns":T,"woke":W,"batched":B}: T is the time spent in
// the broadcast loop (hrtime), so T/N is the in-request cost of one
// Realtime\broadcast() call; of the N calls, W woke the other hubs
// themselves and B left it to this worker's hub (realtime.batch_window),
// from Realtime\status() read outside the timed loop.
//   &ref=1  the reference of workload (f): json_encode() of the payload, the
//           work broadcast() starts with, in its place; with count=1 it times
//           a request's first PHP function call without broadcast(). The hub
//           is not touched (woke and batched stay 0).
$p = $_GET['p'] ?? 'c';
$from = (int) ($_GET['from'] ?? 0);
$n = max(1, (int) ($_GET['n'] ?? 1));
$count = max(1, (int) ($_GET['count'] ?? 1));
$payload = file_get_contents('php://input');
if ($payload === '' || $payload === false) {
    $payload = $_GET['payload'] ?? 'x';
}
$names = [];
for ($i = 0; $i < $n; $i++) {
    $names[] = $p . ($from + $i);
}
$ref = !empty($_GET['ref']);
$before = Realtime\status();
if ($ref) {
    $t0 = hrtime(true);
    for ($k = 0; $k < $count; $k++) {
        foreach ($names as $ch) {
            $json = json_encode($payload);
        }
    }
    $ns = hrtime(true) - $t0;
} else {
    $t0 = hrtime(true);
    for ($k = 0; $k < $count; $k++) {
        foreach ($names as $ch) {
            Realtime\broadcast($ch, $payload);
        }
    }
    $ns = hrtime(true) - $t0;
}
$after = Realtime\status();
$body = '{"calls":' . ($count * $n) . ',"ns":' . $ns
    . ',"woke":' . ($after['publish_wakeups'] - $before['publish_wakeups'])
    . ',"batched":' . ($after['publish_batched'] - $before['publish_batched']) . '}';
header('Content-Type: application/json');
header('Content-Length: ' . strlen($body));
echo $body;
