--TEST--
A CLI process without a hub and without the server's segment publishes over HTTP: status()['publish_path'] and phpinfo() say so and name the segment
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
realtime.listen=127.0.0.1:1
realtime.secret=phpt-secret
--FILE--
<?php
// Port 1: no server has made its segment on this host.
var_dump(Realtime\status()['publish_path']);
ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();
preg_match('/^Shared memory segment => (.*)$/m', $info, $m);
echo preg_replace('/[0-9a-f]{16}/', 'ID', $m[1] ?? 'no row'), "\n";
?>
--EXPECT--
string(4) "http"
/realtime.1.ID not used: shared memory segment /realtime.1.ID: there is none (no server of this realtime.listen has started on this host since boot); broadcast() without a hub posts to /publish
