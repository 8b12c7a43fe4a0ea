--TEST--
realtime.allowed_origins must list scheme://host[:port] origins without a path
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
rt_show_startup('allowed_origins', 'example.com/path');
rt_show_startup('allowed_origins', 'example.com');
rt_show_startup('allowed_origins', 'https://example.com/');
rt_show_startup('allowed_origins', '"https://ok.example bad.example"');
rt_show_startup('allowed_origins', '"https://a.example, http://localhost:8000"');
rt_show_startup('allowed_origins', '*');
?>
--EXPECT--
realtime.allowed_origins=example.com/path: exit non-zero
Warning: realtime: invalid value 'example.com/path' for realtime.allowed_origins: expected space-separated origins such as https://example.com (scheme://host[:port], no path), at most 32 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.allowed_origins=example.com: exit non-zero
Warning: realtime: invalid value 'example.com' for realtime.allowed_origins: expected space-separated origins such as https://example.com (scheme://host[:port], no path), at most 32 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.allowed_origins=https://example.com/: exit non-zero
Warning: realtime: invalid value 'https://example.com/' for realtime.allowed_origins: expected space-separated origins such as https://example.com (scheme://host[:port], no path), at most 32 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.allowed_origins="https://ok.example bad.example": exit non-zero
Warning: realtime: invalid value 'https://ok.example bad.example' for realtime.allowed_origins: expected space-separated origins such as https://example.com (scheme://host[:port], no path), at most 32 in Unknown on line 0
Fatal error: Unable to start realtime module in Unknown on line 0
realtime.allowed_origins="https://a.example, http://localhost:8000": exit 0
script ran
realtime.allowed_origins=*: exit 0
script ran
