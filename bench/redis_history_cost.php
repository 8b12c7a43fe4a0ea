<?php
// What history costs a publish on the redis broker (issue 14), run by
// bench/redis_history_cost.sh against a private redis-server, once with
// realtime.history off and once with the channel under a rule. A process
// without a hub publishes N messages of SIZE bytes on CHANNELS channels
// (each call waits for Redis's answer, so Redis's work is all done when the
// loop ends). Prints one JSON line: µs per call in this process, and the
// redis-server's CPU per message (from /proc/REDIS_PID/stat, user + system).
//
//   php redis_history_cost.php N SIZE CHANNELS REDIS_PID CLK_TCK
[$self, $n, $size, $channels, $redisPid, $hz] = $argv;
$n = (int) $n;
$channels = (int) $channels;
$payload = str_repeat('x', (int) $size);

function redis_cpu_ms(string $pid, int $hz): float
{
    $stat = file_get_contents("/proc/$pid/stat");
    $fields = explode(' ', substr($stat, strrpos($stat, ')') + 2));
    return ((int) $fields[11] + (int) $fields[12]) * 1000 / $hz; // utime + stime, in clock ticks
}

for ($i = 0; $i < 500; $i++) {
    Realtime\broadcastConfirmed('chat-' . ($i % $channels), $payload);
}
$cpu = redis_cpu_ms($redisPid, (int) $hz);
$t = hrtime(true);
for ($i = 0; $i < $n; $i++) {
    Realtime\broadcastConfirmed('chat-' . ($i % $channels), $payload);
}
$wall = hrtime(true) - $t;
$cpu = redis_cpu_ms($redisPid, (int) $hz) - $cpu;
echo json_encode([
    'history' => ini_get('realtime.history'),
    'calls' => $n,
    'call_us' => round($wall / 1e3 / $n, 2),
    'redis_cpu_us' => round($cpu * 1e3 / $n, 2),
]), "\n";
