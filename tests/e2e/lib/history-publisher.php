<?php
// A steady publisher for the history tests: Realtime\broadcast() from a CLI
// process (through the server's shared memory segment, or POST /publish
// while no hub runs), one message {"seq": i} every INTERVAL_MS until the
// file STOP exists. A broadcast that throws (the server reloading) is
// retried until it goes through. Prints one line per message,
// "<seq> <offset>" (offset 0: unknown), then {"ok":true,"sent":N}.
//   php -c php.ini history-publisher.php CHANNEL INTERVAL_MS STOP
[$_, $channel, $interval, $stop] = $argv + [null, 'chat-1', '20', '/nonexistent'];
$seq = 0;
$next = microtime(true);
while (!file_exists($stop)) {
    $deadline = microtime(true) + 20;
    for (;;) {
        try {
            $pos = Realtime\broadcast($channel, ['seq' => $seq]);
            break;
        } catch (Realtime\Exception $e) {
            if (microtime(true) > $deadline) {
                echo json_encode(['ok' => false, 'error' => $e->getMessage(), 'sent' => $seq]), "\n";
                exit(3);
            }
            usleep(20000);
        }
    }
    echo $seq, ' ', is_array($pos) ? $pos['offset'] : 0, "\n";
    $seq++;
    $next += (int) $interval / 1000;
    $wait = $next - microtime(true);
    if ($wait > 0) {
        usleep((int) ($wait * 1e6));
    }
}
echo json_encode(['ok' => true, 'sent' => $seq]), "\n";
