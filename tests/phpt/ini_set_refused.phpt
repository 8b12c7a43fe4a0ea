--TEST--
realtime.* settings cannot be changed at runtime (PHP_INI_SYSTEM)
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
var_dump(ini_set('realtime.listen', '127.0.0.1:6002'));
var_dump(ini_set('realtime.max_subscriptions', '5'));
var_dump(ini_set('realtime.enabled', '0'));
var_dump(ini_get('realtime.listen'), ini_get('realtime.max_subscriptions'), ini_get('realtime.enabled'));
var_dump(Realtime\status()['listen']);
?>
--EXPECT--
bool(false)
bool(false)
bool(false)
string(14) "127.0.0.1:6001"
string(3) "100"
string(1) "1"
string(14) "127.0.0.1:6001"
