--TEST--
realtime.allowed_origins refuses an origin with a path (it could never match a browser's Origin header)
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
rt_show_startup('allowed_origins', 'https://example.com/path');
rt_show_startup('allowed_origins', '"https://ok.example http://bad.example/x"');
rt_show_startup('allowed_origins', 'https://example.com:8443');
?>
--EXPECT--
realtime.allowed_origins=https://example.com/path: exit non-zero
Warning: realtime: invalid value 'https://example.com/path' for realtime.allowed_origins: expected space-separated origins such as https://example.com (scheme://host[:port], no path), at most 32 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.allowed_origins="https://ok.example http://bad.example/x": exit non-zero
Warning: realtime: invalid value 'https://ok.example http://bad.example/x' for realtime.allowed_origins: expected space-separated origins such as https://example.com (scheme://host[:port], no path), at most 32 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.allowed_origins=https://example.com:8443: exit 0
script ran
