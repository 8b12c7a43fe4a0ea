--TEST--
./configure --disable-realtime-hardening builds without the hardening flags (configured out of tree)
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
$root = dirname(__DIR__, 2);
$dir = sys_get_temp_dir() . '/realtime-hardening-' . getmypid();
@mkdir($dir);
register_shutdown_function(fn() => exec('rm -rf ' . escapeshellarg($dir)));
/* Configured out of tree in $dir, so the repo's own build is untouched. The
   default (flags on) is checked on the loaded module by build_hardening.phpt. */
function configure(string $root, string $dir, array $args): string {
    $proc = proc_open(['sh', "$root/configure", '--enable-realtime', ...$args],
        [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, $dir,
        ['PATH' => getenv('PATH'), 'CFLAGS' => '-g -O2']);
    $out = stream_get_contents($pipes[1]);
    $err = stream_get_contents($pipes[2]);
    $status = proc_close($proc);
    if ($status !== 0) echo "configure ", implode(' ', $args), " failed ($status): $err\n";
    return (string) @file_get_contents("$dir/Makefile");
}
$flags = '/-fstack-protector-strong|-D_FORTIFY_SOURCE=2|-z,relro|-z,now/';

$off = configure($root, $dir, ['--disable-realtime-hardening']);
echo "Makefile builds realtime: ", str_contains($off, 'realtime.lo') ? "yes" : "no", "\n";
echo "hardening flags: ", preg_match($flags, $off, $m) ? $m[0] : "none", "\n";
?>
--EXPECT--
Makefile builds realtime: yes
hardening flags: none
