--TEST--
A realtime.ping_interval beyond a day refuses to start the module; 0 (off) and 86400 are fine
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
rt_show_startup('ping_interval', '99999999');
rt_show_startup('ping_interval', '86401');
rt_show_startup('ping_interval', '-5');
rt_show_startup('ping_interval', '0');
rt_show_startup('ping_interval', '86400');
?>
--EXPECT--
realtime.ping_interval=99999999: exit non-zero
Warning: realtime: invalid value '99999999' for realtime.ping_interval: expected seconds from 0 (off) to 86400 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.ping_interval=86401: exit non-zero
Warning: realtime: invalid value '86401' for realtime.ping_interval: expected seconds from 0 (off) to 86400 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.ping_interval=-5: exit non-zero
Warning: realtime: invalid value '-5' for realtime.ping_interval: expected seconds from 0 (off) to 86400 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.ping_interval=0: exit 0
script ran
realtime.ping_interval=86400: exit 0
script ran
