<?php
// Publish endpoint for the load generator:
//   POST /pub.php?p=<prefix>&from=<first>&n=<channels>&count=<messages>, body = payload
// broadcasts `count` messages to each of channels prefix.first .. prefix.(first+n-1)
// and answers {"calls":N,"ns":T}: T is the time spent in the broadcast loop
// (hrtime), so T/N is the in-request cost of one Realtime\broadcast() call.
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
$t0 = hrtime(true);
for ($k = 0; $k < $count; $k++) {
    foreach ($names as $ch) {
        Realtime\broadcast($ch, $payload);
    }
}
$ns = hrtime(true) - $t0;
$body = '{"calls":' . ($count * $n) . ',"ns":' . $ns . '}';
header('Content-Type: application/json');
header('Content-Length: ' . strlen($body));
echo $body;
