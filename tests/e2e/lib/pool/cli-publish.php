<?php
// Realtime\broadcast() from a CLI script (no hub in this process): the
// extension POSTs to the server's /publish endpoint.
//   php -n -d extension=... -d realtime.listen=... -d realtime.secret=... cli-publish.php CHANNEL JSON
// Prints {"ok":true} (exit 0) or {"ok":false,"class":..,"error":..} (exit 3).
[$_, $channel, $json] = $argv + [null, 'news', 'null'];
try {
    Realtime\broadcast($channel, json_decode($json, false, 512, JSON_THROW_ON_ERROR));
    echo json_encode(['ok' => true]), "\n";
    exit(0);
} catch (\Throwable $e) {
    echo json_encode(['ok' => false, 'class' => get_class($e), 'error' => $e->getMessage()]), "\n";
    exit(3);
}
