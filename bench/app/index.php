<?php
// Any request starts the hub in this PHP process (it starts on the first request).
header('Content-Type: application/json');
echo json_encode(function_exists('Realtime\status') ? Realtime\status() : ['running' => false]), "\n";
