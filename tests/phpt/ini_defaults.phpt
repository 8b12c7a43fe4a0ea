--TEST--
INI defaults of every realtime.* directive, all PHP_INI_SYSTEM
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
$defaults = [
    'enabled' => '1',
    'listen' => '127.0.0.1:6001',
    'path' => '/ws',
    'broker' => 'memory',
    'allowed_origins' => '',
    'max_message_size' => '65536',
    'max_connections' => '10000',
    'max_subscriptions' => '100',
    'ping_interval' => '25',
    'max_outbound' => '1048576',
    'handshake_timeout' => '10',
    'max_handshakes' => '1000',
    'max_connections_per_ip' => '0',
    'max_auth_calls' => '64',
    'subscribe_rate' => '10',
    'max_channels' => '100000',
    'max_presence_members' => '1000',
    'shutdown_timeout' => '2000',
    'handoff' => '1',
    'handoff_timeout' => '500',
    'log' => '',
    'log_format' => 'text',
    'log_level' => 'info',
    'app_key' => '',
    'publish_key' => '',
    'metrics_key' => '',
];
$all = ini_get_all('realtime');
foreach ($defaults as $name => $value) {
    $got = ini_get("realtime.$name");
    $entry = $all["realtime.$name"] ?? null;
    if ($got !== $value || $entry === null || $entry['global_value'] !== $value
            || $entry['access'] !== INI_SYSTEM) {
        echo "realtime.$name: ", var_export($got, true), ' ', json_encode($entry), "\n";
    }
}
$system = array_filter($all, fn($e) => $e['access'] === INI_SYSTEM);
echo count($defaults), " checked; every realtime.* directive is INI_SYSTEM: ",
    var_export(count($system) === count($all), true), "\n";
?>
--EXPECT--
26 checked; every realtime.* directive is INI_SYSTEM: true
