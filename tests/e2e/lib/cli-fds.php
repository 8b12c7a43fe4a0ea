<?php
// Run by tests/e2e/secure.test.mjs: a CLI process without a hub publishes
// (POST /publish over a kept-alive libcurl connection), then starts a child
// that lists its descriptors. Prints the child's listing and the socket
// tables as JSON.
Realtime\broadcast('fds', 1);
$p = proc_open(['ls', '-l', '/proc/self/fd'], [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'],
    2 => ['file', '/dev/null', 'w']], $pipes);
$out = stream_get_contents($pipes[1]);
fclose($pipes[1]);
proc_close($p);
$child = [];
foreach (explode("\n", $out) as $line) {
    if (preg_match('/ (\d+) -> (.*)$/', $line, $m)) {
        $child[$m[1]] = $m[2];
    }
}
$parent = [];
foreach (scandir('/proc/self/fd') as $f) {
    if ($f[0] !== '.') {
        $parent[$f] = (string) @readlink("/proc/self/fd/$f");
    }
}
echo json_encode([
    'proc_open' => $child,
    'parent' => $parent,
    'tcp' => @file_get_contents('/proc/net/tcp') . @file_get_contents('/proc/net/tcp6'),
    'unix' => (string) @file_get_contents('/proc/net/unix'),
]), "\n";
