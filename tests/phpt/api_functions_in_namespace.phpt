--TEST--
The functions live in the Realtime namespace, none of them in the global one
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
$ext = new ReflectionExtension('realtime');
$names = array_keys($ext->getFunctions());
foreach (['broadcast', 'start', 'stop', 'status'] as $fn) {
    echo $fn, ': ', var_export(in_array("Realtime\\$fn", $names, true), true), ', global: ',
        var_export(function_exists($fn), true), "\n";
}
$outside = array_filter($names, fn($n) => !str_starts_with($n, 'Realtime\\'));
echo 'functions outside the namespace: ', $outside ? implode(', ', $outside) : 'none', "\n";
$global = array_filter($names, fn($n) => function_exists(substr($n, strlen('Realtime\\'))));
echo 'functions also defined globally: ', $global ? implode(', ', $global) : 'none', "\n";
$classes = array_keys($ext->getClasses());
echo 'classes outside the namespace: ', implode(', ', array_filter($classes, fn($c) => !str_starts_with($c, 'Realtime\\'))) ?: 'none', "\n";
var_dump(in_array('Realtime\Exception', $classes, true));
var_dump($ext->getVersion() === phpversion('realtime'), (bool) preg_match('/^\d+\.\d+\.\d+/', $ext->getVersion()));
?>
--EXPECT--
broadcast: true, global: false
start: true, global: false
stop: true, global: false
status: true, global: false
functions outside the namespace: none
functions also defined globally: none
classes outside the namespace: none
bool(true)
bool(true)
bool(true)
