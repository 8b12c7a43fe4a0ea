<?php
// Realtime\broadcast() on a topic URL: ?topic=..&n=..
header('Content-Type: application/json');
echo json_encode(['position' => Realtime\broadcast($_GET['topic'], ['n' => (int) ($_GET['n'] ?? 0)])]);
