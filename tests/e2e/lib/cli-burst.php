<?php
// Realtime\broadcast() from a CLI script without a hub, in groups: each
// broadcast POSTs to the server's /publish over the connection the process
// keeps between calls.
//   php ... cli-burst.php CHANNEL GROUP_SIZE PAUSE_MS GROUPS
// Sends GROUPS groups of GROUP_SIZE messages {"seq": i}, pausing PAUSE_MS
// between groups; prints {"ok":true,"sent":N} or {"ok":false,"error":..,"sent":N}.
[$_, $channel, $size, $pause, $groups] = $argv + [null, 'news', '5', '0', '2'];
$sent = 0;
try {
    for ($g = 0; $g < (int) $groups; $g++) {
        if ($g > 0) {
            usleep((int) $pause * 1000);
        }
        for ($i = 0; $i < (int) $size; $i++) {
            Realtime\broadcast($channel, ['seq' => $sent]);
            $sent++;
        }
    }
    echo json_encode(['ok' => true, 'sent' => $sent]), "\n";
} catch (\Throwable $e) {
    echo json_encode(['ok' => false, 'error' => $e->getMessage(), 'sent' => $sent]), "\n";
    exit(3);
}
