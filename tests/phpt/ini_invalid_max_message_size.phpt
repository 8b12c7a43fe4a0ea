--TEST--
An invalid realtime.max_message_size (negative, not a number, out of range) refuses to start the module
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
foreach (['-1', 'abc', '15', '67108865', '64k', '1e3', ' 100', '99999999999999999999999'] as $v) {
    rt_show_startup('max_message_size', $v);
}
rt_show_startup('max_message_size', '16');
rt_show_startup('max_message_size', '67108864');
?>
--EXPECT--
realtime.max_message_size=-1: exit non-zero
Warning: realtime: invalid value '-1' for realtime.max_message_size: expected bytes from 16 to 67108864 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.max_message_size=abc: exit non-zero
Warning: realtime: invalid value 'abc' for realtime.max_message_size: expected bytes from 16 to 67108864 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.max_message_size=15: exit non-zero
Warning: realtime: invalid value '15' for realtime.max_message_size: expected bytes from 16 to 67108864 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.max_message_size=67108865: exit non-zero
Warning: realtime: invalid value '67108865' for realtime.max_message_size: expected bytes from 16 to 67108864 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.max_message_size=64k: exit non-zero
Warning: realtime: invalid value '64k' for realtime.max_message_size: expected bytes from 16 to 67108864 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.max_message_size=1e3: exit non-zero
Warning: realtime: invalid value '1e3' for realtime.max_message_size: expected bytes from 16 to 67108864 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.max_message_size= 100: exit non-zero
Warning: realtime: invalid value ' 100' for realtime.max_message_size: expected bytes from 16 to 67108864 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.max_message_size=99999999999999999999999: exit non-zero
Warning: realtime: invalid value '99999999999999999999999' for realtime.max_message_size: expected bytes from 16 to 67108864 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.max_message_size=16: exit 0
script ran
realtime.max_message_size=67108864: exit 0
script ran
