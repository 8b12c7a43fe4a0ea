<?php
// As in Laravel's skeleton; the package adds the "realtime" connection.
return [
    'default' => env('BROADCAST_DRIVER', 'null'),
    'connections' => [
        'log' => ['driver' => 'log'],
        'null' => ['driver' => 'null'],
    ],
];
