--TEST--
status() and phpinfo() count connections handed off, taken over and closed for lack of a taker
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
$s = Realtime\status();
foreach (['handed_off', 'taken_over', 'handoff_closed'] as $key) {
    echo $key, ': ', var_export($s[$key] ?? null, true), "\n";
}
ob_start();
(new ReflectionExtension('realtime'))->info();
$info = ob_get_clean();
foreach (['Connections handed off', 'Connections taken over',
        'Connections closed for lack of a taker'] as $row) {
    echo $row, ': ', preg_match('/^' . preg_quote($row, '/') . ' => 0$/m', $info) ? 'yes' : 'no', "\n";
}
?>
--EXPECT--
handed_off: 0
taken_over: 0
handoff_closed: 0
Connections handed off: yes
Connections taken over: yes
Connections closed for lack of a taker: yes
