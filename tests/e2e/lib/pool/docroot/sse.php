<?php
// The same EventSource page the php -S tests load (one copy of it).
header('Content-Type: text/html; charset=utf-8');
readfile(__DIR__ . '/../../../app/sse.html');
