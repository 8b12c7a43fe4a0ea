--TEST--
phpinfo(INFO_MODULES) has a realtime section with a Hub row and every INI directive
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();
$start = strpos($info, "\nrealtime\n");
var_dump($start !== false);
/* The section runs up to the next module's title: a line of its own followed by a blank line. */
$section = substr($info, $start + 1);
if (preg_match('/\n\n(?!Directive)[A-Za-z][^\n=]*\n\n/', $section, $m, PREG_OFFSET_CAPTURE, 10)) {
    $section = substr($section, 0, $m[0][1]);
}
foreach (['realtime support => enabled', 'Version => ' . phpversion('realtime'),
        'Hub => not running in this process'] as $row) {
    echo $row, ': ', var_export(str_contains($section, $row), true), "\n";
}
$directives = ['enabled', 'listen', 'path', 'broker', 'allowed_origins', 'max_message_size',
    'max_connections', 'max_subscriptions', 'ping_interval', 'max_outbound', 'handshake_timeout',
    'shutdown_timeout', 'log'];
$missing = [];
foreach ($directives as $d) {
    if (!preg_match('/^realtime\.' . $d . ' => .* => .*$/m', $section)) {
        $missing[] = $d;
    }
}
echo 'missing: ', implode(', ', $missing) ?: 'none', "\n";
preg_match_all('/^(realtime\.\w+) =>/m', $section, $m);
$registered = array_keys(ini_get_all('realtime'));
echo 'registered but not listed: ', implode(', ', array_diff($registered, $m[1])) ?: 'none', "\n";
echo 'listed but not registered: ', implode(', ', array_diff($m[1], $registered)) ?: 'none', "\n";
echo str_contains($section, 'realtime.listen => 127.0.0.1:6001 => 127.0.0.1:6001') ? "listen ok\n" : "listen row wrong\n";
?>
--EXPECT--
bool(true)
realtime support => enabled: true
Version => 0.1.0: true
Hub => not running in this process: true
missing: none
registered but not listed: none
listed but not registered: none
listen ok
