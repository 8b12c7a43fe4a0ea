--TEST--
An unknown realtime.broker refuses to start the module
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
rt_show_startup('broker', 'nope');
rt_show_startup('broker', 'Memory');
rt_show_startup('broker', 'memory');
?>
--EXPECTF--
realtime.broker=nope: exit non-zero
Warning: realtime: invalid value 'nope' for realtime.broker: expected "memory"%s in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.broker=Memory: exit non-zero
Warning: realtime: invalid value 'Memory' for realtime.broker: expected "memory"%s in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.broker=memory: exit 0
script ran
