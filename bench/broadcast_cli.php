<?php
// Workload (f), CLI side: times Realtime\broadcast() in a loop. Run as
//   php -n -d extension=.../realtime.so -d realtime.listen=127.0.0.1:PORT bench/broadcast_cli.php [N] [payload bytes] [daemon|remote]
// daemon (the default): starts a hub in this process first, as a long-running
// CLI server would. remote: no hub, as a queue worker or cron job: each call
// goes through the server's named shared-memory segment when this process
// is of its user, else is a POST /publish to the server on realtime.listen
// (needs its realtime.secret), over one kept-alive connection; "path" in
// the output says which (bench/segment_publish.sh runs both).
// Prints one JSON line. Nobody is subscribed: this is the publishing cost in
// the calling thread; the hub thread still takes each message off its queue.
$n = (int) ($argv[1] ?? 1000000);
$size = (int) ($argv[2] ?? 64);
$remote = ($argv[3] ?? 'daemon') === 'remote';
if (!$remote) {
    Realtime\start();
    $st = Realtime\status();
    if (empty($st['running'])) {
        fwrite(STDERR, "hub not running: " . json_encode($st) . "\n");
        exit(1);
    }
}
$payload = str_repeat('x', $size);
for ($i = 0; $i < ($remote ? 100 : 10000); $i++) {
    Realtime\broadcast('cli-warmup', $payload);
}
usleep(200000);
$best = PHP_INT_MAX;
$runs = [];
for ($r = 0; $r < 3; $r++) {
    $t0 = hrtime(true);
    for ($i = 0; $i < $n; $i++) {
        Realtime\broadcast('cli-bench', $payload);
    }
    $ns = hrtime(true) - $t0;
    $runs[] = $ns / $n;
    usleep(300000); // let the hub thread empty its queue
}
// the empty loop, to show how much of the figure is the loop itself
$t0 = hrtime(true);
for ($i = 0; $i < $n; $i++) {
}
$loop = (hrtime(true) - $t0) / $n;
sort($runs);
$rss = 0;
foreach (file('/proc/self/status') as $line) {
    if (str_starts_with($line, 'VmRSS:')) {
        $rss = (int) filter_var($line, FILTER_SANITIZE_NUMBER_INT);
    }
}
echo json_encode([
    'mode' => $remote ? 'remote' : 'daemon', 'path' => Realtime\status()['publish_path'], 'calls' => $n, 'payload' => $size, 'ns_per_call_median' => round($runs[1], 1),
    'ns_per_call_runs' => array_map(fn($v) => round($v, 1), $runs),
    'calls_per_s' => round(1e9 / $runs[1]), 'empty_loop_ns' => round($loop, 1),
    'rss_kb' => $rss,
]), "\n";
if (!$remote) {
    Realtime\stop();
}
