<?php
// Realtime\broadcast() on a topic URL: ?topic=..&n=..[&pad=bytes][&count=times]
header('Content-Type: application/json');
$message = ['n' => (int) ($_GET['n'] ?? 0)];
if (isset($_GET['pad'])) {
    $message['pad'] = str_repeat('x', (int) $_GET['pad']);
}
$position = null;
for ($i = 0, $count = max(1, (int) ($_GET['count'] ?? 1)); $i < $count; $i++) {
    $position = Realtime\broadcast($_GET['topic'], $message);
}
echo json_encode(['position' => $position]);
