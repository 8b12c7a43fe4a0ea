--TEST--
The loaded realtime.so is hardened (config.m4 default): full RELRO, BIND_NOW, stack protector, fortified calls
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
/* The module this process loaded, whichever build dir it came from. */
$so = null;
foreach (file('/proc/self/maps', FILE_IGNORE_NEW_LINES) as $line) {
    if (preg_match('~\s(/\S*/realtime\.so)$~', $line, $m)) {
        $so = $m[1];
        break;
    }
}
var_dump($so !== null);

function readelf(string ...$args): string {
    $proc = proc_open(['readelf', '-W', ...$args],
        [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
    $out = stream_get_contents($pipes[1]);
    $err = stream_get_contents($pipes[2]);
    $status = proc_close($proc);
    if ($status !== 0) echo "readelf ", implode(' ', $args), " failed: $status $err\n";
    return $out;
}

$dynamic = readelf('-d', $so);
$headers = readelf('-l', $so);
$symbols = readelf('--dyn-syms', $so);
echo "RELRO: ", preg_match('/^\s*GNU_RELRO\s/m', $headers) ? "yes" : "no", "\n";
echo "BIND_NOW: ", preg_match('/\(FLAGS\)\s+.*\bBIND_NOW\b|\(FLAGS_1\)\s+Flags:.*\bNOW\b/', $dynamic) ? "yes" : "no", "\n";
echo "stack protector: ", str_contains($symbols, ' __stack_chk_fail') ? "yes" : "no", "\n";
/* A sanitizer build sets _FORTIFY_SOURCE=0 (the _chk wrappers hide accesses
   from ASan's interceptors); every other build calls glibc's checked copies. */
$sanitized = str_contains($symbols, ' __asan_init') || str_contains($symbols, ' __ubsan_handle_');
$fortified = preg_match('/ __(memcpy|snprintf|vsnprintf|memmove|memset|strcpy)_chk\b/', $symbols) === 1;
echo "fortify: ", ($fortified || $sanitized) ? "yes" : "no", "\n";
?>
--EXPECT--
bool(true)
RELRO: yes
BIND_NOW: yes
stack protector: yes
fortify: yes
