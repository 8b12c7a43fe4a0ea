--TEST--
pusherAuth() and pusherUserAuth() throw Realtime\Exception when realtime.app_key is not set
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
realtime.log=/dev/null
realtime.secret=s
--FILE--
<?php
foreach ([fn() => Realtime\pusherAuth('1.1', 'private-x'), fn() => Realtime\pusherUserAuth('1.1', '{"id":"1"}')] as $f) {
    try {
        $f();
    } catch (Realtime\Exception $e) {
        echo $e->getMessage(), "\n";
    }
}
?>
--EXPECT--
Realtime\pusherAuth(): set realtime.app_key and realtime.app_secret (or realtime.secret): there is nothing to sign with
Realtime\pusherUserAuth(): set realtime.app_key and realtime.app_secret (or realtime.secret): there is nothing to sign with
