<?php
// The pool tests' warm-up page (which worker answered, its hub running).
require __DIR__ . '/../lib/pool/docroot/pid.php';
