<?php
// mercure_publish() in the request, as symfony/mercure's FrankenPhpHub
// calls it: ?topic=..&data=..[&private=1][&type=..]
header('Content-Type: application/json');
echo json_encode([
    'defined' => function_exists('mercure_publish'),
    'id' => mercure_publish($_GET['topic'], $_GET['data'] ?? '', isset($_GET['private']), null,
        $_GET['type'] ?? null),
]);
