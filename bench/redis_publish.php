<?php
// The redis broker's Realtime\broadcast() cost in the calling thread (issue 14).
// Run by bench/redis_publish.sh, which starts the redis-server and, for the
// "busy" case, a redis-benchmark against it. Prints one JSON line:
//   sync       no hub in the process: each call sends PUBLISH on PHP's own
//              connection and waits for the reply (the path every call took
//              before the hand-off; a CLI script without a hub still takes it)
//   handed     a hub runs in this process (Realtime\start(), as a server
//              worker has): the call hands the message to the hub thread and
//              returns; batches of BATCH calls, the queue drained between
//              them (not timed), as requests publish a few messages each
//   sustained  N calls back to back: past realtime.redis_publish_queue the
//              calls wait for room, so this is Redis's pace, not the call's
//   confirmed  Realtime\broadcastConfirmed(): handed, then waits for Redis
// Every figure is µs per call, the median of 5 runs; nobody is subscribed.
$n = (int) ($argv[1] ?? 20000);
$batch = (int) ($argv[2] ?? 100);
$payload = str_repeat('x', 64);

function per_call(callable $f, int $n): float
{
    $t = hrtime(true);
    for ($i = 0; $i < $n; $i++) {
        $f($i);
    }
    return (hrtime(true) - $t) / 1e3 / $n;
}

function median(array $v): float
{
    sort($v);
    return $v[intdiv(count($v), 2)];
}

function drained(): void
{
    $deadline = microtime(true) + 10;
    while (Realtime\status()['redis_publish_waiting'] > 0 && microtime(true) < $deadline) {
        usleep(200);
    }
}

$bcast = fn($i) => Realtime\broadcast('bench', $payload);
$out = [];

// sync: no hub yet
per_call($bcast, 200);
$runs = [];
for ($r = 0; $r < 5; $r++) {
    $runs[] = per_call($bcast, intdiv($n, 10));
}
$out['sync_us'] = median($runs);

Realtime\start();
$deadline = microtime(true) + 10;
while (!Realtime\status()['broker_connected']) {
    if (microtime(true) > $deadline) {
        fwrite(STDERR, "the hub did not connect to Redis: " . json_encode(Realtime\status()) . "\n");
        exit(1);
    }
    usleep(10000);
}
per_call($bcast, 1000);
drained();

$runs = [];
for ($r = 0; $r < 5; $r++) {
    $total = 0.0;
    for ($b = 0; $b < intdiv($n, $batch); $b++) {
        $total += per_call($bcast, $batch) * $batch;
        drained();
    }
    $runs[] = $total / (intdiv($n, $batch) * $batch);
}
$out['handed_us'] = median($runs);

$runs = [];
for ($r = 0; $r < 5; $r++) {
    $runs[] = per_call($bcast, $n);
    drained();
}
$out['sustained_us'] = median($runs);

$runs = [];
for ($r = 0; $r < 5; $r++) {
    $runs[] = per_call(fn($i) => Realtime\broadcastConfirmed('bench', $payload), intdiv($n, 10));
}
$out['confirmed_us'] = median($runs);

$st = Realtime\status();
foreach (['redis_publish_handed', 'redis_publish_failed', 'redis_publish_dropped'] as $k) {
    $out[$k] = $st[$k];
}
$out['n'] = $n;
$out['batch'] = $batch;
echo json_encode($out), "\n";
Realtime\stop();
