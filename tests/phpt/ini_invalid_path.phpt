--TEST--
An invalid realtime.path (not absolute, or with a query) refuses to start the module
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
foreach (['ws', 'ws/', '/ws?x=1', '/w s', '/ws#top', '""'] as $v) {
    rt_show_startup('path', $v);
}
rt_show_startup('path', '/');
?>
--EXPECT--
realtime.path=ws: exit non-zero
Warning: realtime: invalid value 'ws' for realtime.path: expected an absolute path such as /ws, without a query in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.path=ws/: exit non-zero
Warning: realtime: invalid value 'ws/' for realtime.path: expected an absolute path such as /ws, without a query in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.path=/ws?x=1: exit non-zero
Warning: realtime: invalid value '/ws?x=1' for realtime.path: expected an absolute path such as /ws, without a query in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.path=/w s: exit non-zero
Warning: realtime: invalid value '/w s' for realtime.path: expected an absolute path such as /ws, without a query in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.path=/ws#top: exit non-zero
Warning: realtime: invalid value '/ws#top' for realtime.path: expected an absolute path such as /ws, without a query in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.path="": exit non-zero
Warning: realtime: invalid value '' for realtime.path: expected an absolute path such as /ws, without a query in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.path=/: exit 0
script ran
