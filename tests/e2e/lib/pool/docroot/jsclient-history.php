<?php
// The same Realtime\history() answer as the php -S tests' app/ (one script
// for both docroots).
require __DIR__ . '/../../../app/jsclient-history.php';
