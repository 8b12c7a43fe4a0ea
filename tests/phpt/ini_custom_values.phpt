--TEST--
Valid non-default INI values are accepted and reported by ini_get() and Realtime\status()
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
realtime.listen="[::1]:6123"
realtime.path=/live/socket
realtime.allowed_origins="https://app.example.com http://localhost:8000 *"
realtime.max_message_size=16
realtime.max_subscriptions=1
realtime.ping_interval=0
realtime.max_outbound=1024
realtime.shutdown_timeout=0
--FILE--
<?php
foreach (['listen', 'path', 'allowed_origins', 'max_message_size', 'max_subscriptions',
        'ping_interval', 'max_outbound', 'shutdown_timeout'] as $name) {
    echo "realtime.$name = ", var_export(ini_get("realtime.$name"), true), "\n";
}
$s = Realtime\status();
echo $s['listen'], ' ', $s['path'], ' ', $s['broker'], ' ', var_export($s['running'], true), "\n";
?>
--EXPECT--
realtime.listen = '[::1]:6123'
realtime.path = '/live/socket'
realtime.allowed_origins = 'https://app.example.com http://localhost:8000 *'
realtime.max_message_size = '16'
realtime.max_subscriptions = '1'
realtime.ping_interval = '0'
realtime.max_outbound = '1024'
realtime.shutdown_timeout = '0'
[::1]:6123 /live/socket memory false
