--TEST--
realtime.enabled accepts php.ini boolean words (Off, false, no, none become "", On, yes, true become "1")
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
foreach (['Off', 'off', 'false', 'no', 'none', '0', '""', 'On', 'yes', 'true', '1'] as $v) {
    $r = rt_run_php(['realtime.enabled' => $v], 'var_export(ini_get("realtime.enabled"));');
    printf("%-5s -> exit %d, %s%s\n", $v, $r['status'], $r['stdout'],
        trim($r['stderr']) === '' ? '' : ', stderr: ' . strtok(trim($r['stderr']), "\n"));
}
?>
--EXPECT--
Off   -> exit 0, ''
off   -> exit 0, ''
false -> exit 0, ''
no    -> exit 0, ''
none  -> exit 0, ''
0     -> exit 0, '0'
""    -> exit 0, ''
On    -> exit 0, '1'
yes   -> exit 0, '1'
true  -> exit 0, '1'
1     -> exit 0, '1'
