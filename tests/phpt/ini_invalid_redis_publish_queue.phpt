--TEST--
A realtime.redis_publish_queue of 0 or past 10000000 refuses to start the module; 1 and 10000000 are fine
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
rt_show_startup('redis_publish_queue', '0');
rt_show_startup('redis_publish_queue', '10000001');
rt_show_startup('redis_publish_queue', 'many');
rt_show_startup('redis_publish_queue', '1');
rt_show_startup('redis_publish_queue', '10000000');
?>
--EXPECT--
realtime.redis_publish_queue=0: exit non-zero
Warning: realtime: invalid value '0' for realtime.redis_publish_queue: expected publishes from 1 to 10000000 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.redis_publish_queue=10000001: exit non-zero
Warning: realtime: invalid value '10000001' for realtime.redis_publish_queue: expected publishes from 1 to 10000000 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.redis_publish_queue=many: exit non-zero
Warning: realtime: invalid value 'many' for realtime.redis_publish_queue: expected publishes from 1 to 10000000 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.redis_publish_queue=1: exit 0
script ran
realtime.redis_publish_queue=10000000: exit 0
script ran
