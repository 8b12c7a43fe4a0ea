<?php
// The JavaScript client (clients/js/realtime.js) for the page: the demo's
// web server serves demo/ only. An app copies the file, or installs it
// with npm, and serves it as a static file.
declare(strict_types=1);

header('Content-Type: text/javascript; charset=utf-8');
header('Cache-Control: no-cache');
readfile(__DIR__ . '/../clients/js/realtime.js');
