--TEST--
An invalid realtime.listen refuses to start the module, naming the setting and the value
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
foreach (['abc', '127.0.0.1:0', 'localhost:6001', '127.0.0.1:65536', '127.0.0.1:', '127.0.0.1',
        ':6001', '127.0.0.1:60x1'] as $v) {
    rt_show_startup('listen', $v);
}
rt_show_startup('listen', '[::1]:6001');
rt_show_startup('listen', '0.0.0.0:1');
?>
--EXPECT--
realtime.listen=abc: exit non-zero
Warning: realtime: invalid value 'abc' for realtime.listen: expected a numeric address and port, such as 127.0.0.1:6001 or [::1]:6001 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.listen=127.0.0.1:0: exit non-zero
Warning: realtime: invalid value '127.0.0.1:0' for realtime.listen: expected a numeric address and port, such as 127.0.0.1:6001 or [::1]:6001 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.listen=localhost:6001: exit non-zero
Warning: realtime: invalid value 'localhost:6001' for realtime.listen: expected a numeric address and port, such as 127.0.0.1:6001 or [::1]:6001 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.listen=127.0.0.1:65536: exit non-zero
Warning: realtime: invalid value '127.0.0.1:65536' for realtime.listen: expected a numeric address and port, such as 127.0.0.1:6001 or [::1]:6001 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.listen=127.0.0.1:: exit non-zero
Warning: realtime: invalid value '127.0.0.1:' for realtime.listen: expected a numeric address and port, such as 127.0.0.1:6001 or [::1]:6001 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.listen=127.0.0.1: exit non-zero
Warning: realtime: invalid value '127.0.0.1' for realtime.listen: expected a numeric address and port, such as 127.0.0.1:6001 or [::1]:6001 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.listen=:6001: exit non-zero
Warning: realtime: invalid value ':6001' for realtime.listen: expected a numeric address and port, such as 127.0.0.1:6001 or [::1]:6001 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.listen=127.0.0.1:60x1: exit non-zero
Warning: realtime: invalid value '127.0.0.1:60x1' for realtime.listen: expected a numeric address and port, such as 127.0.0.1:6001 or [::1]:6001 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.listen=[::1]:6001: exit 0
script ran
realtime.listen=0.0.0.0:1: exit 0
script ran
