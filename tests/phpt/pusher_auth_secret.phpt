--TEST--
pusherAuth() signs with realtime.secret when realtime.app_secret is empty
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
realtime.log=/dev/null
realtime.app_key=k1
realtime.secret=only-the-native-secret
--FILE--
<?php
var_dump(Realtime\pusherAuth('1.1', 'private-x')['auth']
    === 'k1:' . hash_hmac('sha256', '1.1:private-x', 'only-the-native-secret'));
?>
--EXPECT--
bool(true)
