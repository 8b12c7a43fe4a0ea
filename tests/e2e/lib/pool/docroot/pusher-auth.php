<?php
// Pusher channel authorization for the pool tests: the same answer as the
// php -S tests' endpoint (app/pusher/auth.php), from a pool's docroot.
require __DIR__ . '/../../../app/pusher/auth.php';
