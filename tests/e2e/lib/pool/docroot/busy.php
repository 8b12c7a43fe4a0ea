<?php
// Keeps its worker busy for ?ms= milliseconds (at most 10000), even through
// signals that cut a sleep short (Apache's graceful restart sends SIGUSR1
// to busy children), then answers its pid.
header('Content-Type: application/json');
$until = microtime(true) + min(10000, max(0, (int) ($_GET['ms'] ?? 0))) / 1000;
while (($left = $until - microtime(true)) > 0) {
    usleep((int) min(50000, $left * 1e6));
}
echo json_encode(['pid' => getmypid()]), "\n";
