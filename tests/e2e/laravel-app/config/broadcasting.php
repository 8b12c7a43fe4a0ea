<?php
// As in Laravel's skeleton, plus the "realtime" connection's options for
// native clients (without one, the package adds a bare connection).
return [
    'default' => env('BROADCAST_DRIVER', 'null'),
    'connections' => [
        'log' => ['driver' => 'log'],
        'null' => ['driver' => 'null'],
        // Native clients signed in through /broadcasting/auth (the hub's
        // realtime.auth_endpoint) get these besides their notification channel.
        'realtime' => ['driver' => 'realtime', 'native_user_info' => ['name'], 'native_channels' => ['presence-room.*']],
    ],
];
