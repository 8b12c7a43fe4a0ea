--TEST--
Realtime\broadcast() throws ValueError for an invalid event name (empty, over 200 bytes, invalid UTF-8)
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
$bad = ['', str_repeat('e', 201), "\xff", "caf\xe9", "\xc3", "\xed\xa0\x80", str_repeat('é', 100) . 'x'];
foreach ($bad as $event) {
    try {
        Realtime\broadcast('news', 'x', $event);
        echo bin2hex(substr($event, 0, 8)), ": accepted\n";
    } catch (ValueError $e) {
        echo strlen($event), ' bytes: ', $e->getMessage(), "\n";
    }
}
/* Any valid UTF-8 of 1 to 200 bytes is a fine event name, and null means none. */
foreach ([null, 'e', str_repeat('e', 200), 'article.published', 'with space/and-slash', 'ünïcödé ✓',
        str_repeat('é', 100)] as $event) {
    try {
        Realtime\broadcast('news', 'x', $event);
    } catch (Realtime\Exception $e) {
        echo var_export($event === null ? null : strlen($event), true), ' ok: ', rt_no_hub($e), "\n";
    }
}
?>
--EXPECT--
0 bytes: Realtime\broadcast(): Argument #3 ($event) must be null or 1 to 200 bytes of valid UTF-8
201 bytes: Realtime\broadcast(): Argument #3 ($event) must be null or 1 to 200 bytes of valid UTF-8
1 bytes: Realtime\broadcast(): Argument #3 ($event) must be null or 1 to 200 bytes of valid UTF-8
4 bytes: Realtime\broadcast(): Argument #3 ($event) must be null or 1 to 200 bytes of valid UTF-8
1 bytes: Realtime\broadcast(): Argument #3 ($event) must be null or 1 to 200 bytes of valid UTF-8
3 bytes: Realtime\broadcast(): Argument #3 ($event) must be null or 1 to 200 bytes of valid UTF-8
201 bytes: Realtime\broadcast(): Argument #3 ($event) must be null or 1 to 200 bytes of valid UTF-8
NULL ok: no hub
1 ok: no hub
200 ok: no hub
17 ok: no hub
20 ok: no hub
15 ok: no hub
200 ok: no hub
