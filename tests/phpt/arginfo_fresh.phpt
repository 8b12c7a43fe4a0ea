--TEST--
stubs/realtime_arginfo.h is up to date with stubs/realtime.stub.php (scripts/gen-arginfo.sh --check)
--EXTENSIONS--
realtime
--SKIPIF--
<?php
$root = dirname(__DIR__, 2);
if (!is_file("$root/scripts/gen-arginfo.sh")) die("skip scripts/gen-arginfo.sh not found");
if (!is_file('/usr/share/php/PhpParser/Parser.php') && getenv('PHP_PARSER_DIR') === false) {
    die('skip php-parser is not installed (apt-get install php-parser)');
}
foreach (['bash', 'php-config', 'php'] as $tool) {
    $found = false;
    foreach (explode(':', (string) getenv('PATH')) as $d) {
        $found = $found || ($d !== '' && is_executable("$d/$tool"));
    }
    if (!$found) die("skip $tool not found in PATH (install php8.2-dev)");
}
?>
--INI--
pcre.jit=0
--FILE--
<?php
$root = dirname(__DIR__, 2);
$proc = proc_open(['bash', "$root/scripts/gen-arginfo.sh", '--check'],
    [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, $root);
$stdout = stream_get_contents($pipes[1]);
$stderr = stream_get_contents($pipes[2]);
$status = proc_close($proc);
echo "exit $status\n", trim($stdout), "\n";
if ($status !== 0) {
    echo $stderr;
}
?>
--EXPECT--
exit 0
gen-arginfo: stubs/realtime_arginfo.h is up to date
