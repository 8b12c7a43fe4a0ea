<?php
// Ends the session started by login.php.
declare(strict_types=1);

header('Content-Type: application/json');
session_start();
$_SESSION = [];
session_destroy();
echo json_encode(['ok' => true]), "\n";
