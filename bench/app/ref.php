<?php
// The reference for workload (f): pub.php with json_encode() of the payload
// in place of Realtime\broadcast(), the work broadcast() starts with (it
// JSON-encodes the message). With count=1 this times a request's first PHP
// function call without broadcast(), the cold start any first call pays.
//   POST /ref.php?p=<prefix>&from=<first>&n=<channels>&count=<calls>, body = payload
// answers {"calls":N,"ns":T} as pub.php does. Does not touch the hub.
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
        $json = json_encode($payload);
    }
}
$ns = hrtime(true) - $t0;
$body = '{"calls":' . ($count * $n) . ',"ns":' . $ns . '}';
header('Content-Type: application/json');
header('Content-Length: ' . strlen($body));
echo $body;
