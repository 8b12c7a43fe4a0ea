<?php
// Works around php -S polling with select(): it cannot serve a connection
// whose descriptor is >= FD_SETSIZE (1024), and the hub's client sockets
// share this process's descriptor table. While this request runs it holds
// `n` descriptors, so the WebSocket clients that connect meanwhile get
// descriptors above them; when it returns, the low descriptors are free
// for later HTTP requests (the publish requests).
//   GET /hold.php?n=1100&token=T   holds until sys_get_temp_dir()/rt-bench-hold-T exists (10 min at most)
$n = min(4000, max(0, (int) ($_GET['n'] ?? 1100)));
$token = preg_replace('/[^A-Za-z0-9_-]/', '', (string) ($_GET['token'] ?? 'x'));
$release = sys_get_temp_dir() . "/rt-bench-hold-$token";
$held = [];
for ($i = 0; $i < $n; $i++) {
    $f = fopen('/dev/null', 'r');
    if ($f === false) {
        break;
    }
    $held[] = $f;
}
file_put_contents("$release.held", (string) count($held));
$deadline = microtime(true) + 600;
while (!file_exists($release) && microtime(true) < $deadline) {
    usleep(10000);
}
@unlink($release);
@unlink("$release.held");
header('Content-Type: text/plain');
echo count($held), "\n";
