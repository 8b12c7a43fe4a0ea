<?php
// What a child of this worker inherits: the worker starts `ls -l
// /proc/self/fd` with proc_open() and with exec(), and answers both
// listings, the worker's own descriptors, and the socket tables, so the
// test can tell the hub's descriptors from PHP's.
$listing = static function (string $text): array {
    $fds = [];
    foreach (explode("\n", $text) as $line) {
        if (preg_match('/ (\d+) -> (.*)$/', $line, $m)) {
            $fds[$m[1]] = $m[2];
        }
    }
    return $fds;
};
// A broadcast first, so that a broker's connection (Redis) is open too.
Realtime\broadcast('fds', 1);
$p = proc_open(['ls', '-l', '/proc/self/fd'], [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'],
    2 => ['file', '/dev/null', 'w']], $pipes);
$out = stream_get_contents($pipes[1]);
fclose($pipes[1]);
proc_close($p);
exec('ls -l /proc/self/fd', $lines);
$parent = [];
foreach (scandir('/proc/self/fd') as $f) {
    if ($f[0] !== '.') {
        $parent[$f] = (string) @readlink("/proc/self/fd/$f");
    }
}
header('Content-Type: application/json');
echo json_encode([
    'proc_open' => $listing($out),
    'exec' => $listing(implode("\n", $lines)),
    'parent' => $parent,
    'tcp' => @file_get_contents('/proc/net/tcp') . @file_get_contents('/proc/net/tcp6'),
    'unix' => (string) @file_get_contents('/proc/net/unix'),
]);
