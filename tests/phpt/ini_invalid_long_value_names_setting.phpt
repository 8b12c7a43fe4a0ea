--TEST--
The startup warning for an over-long invalid value still names the setting (the value is shortened, not the name)
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
foreach (['log' => str_repeat('l', 600), 'path' => '/' . str_repeat('p', 600),
        'allowed_origins' => str_repeat('x', 300)] as $name => $value) {
    $r = rt_run_php(["realtime.$name" => $value], 'echo "script ran\n";');
    $warning = strtok(trim($r['stderr']), "\n");
    echo "realtime.$name (", strlen($value), " bytes): exit ", $r['status'] === 0 ? '0' : 'non-zero',
        ', names the setting: ', var_export(str_contains($warning, "for realtime.$name:"), true),
        ', warning under 400 bytes: ', var_export(strlen($warning) < 400, true), "\n";
}
?>
--EXPECT--
realtime.log (600 bytes): exit non-zero, names the setting: true, warning under 400 bytes: true
realtime.path (601 bytes): exit non-zero, names the setting: true, warning under 400 bytes: true
realtime.allowed_origins (300 bytes): exit non-zero, names the setting: true, warning under 400 bytes: true
