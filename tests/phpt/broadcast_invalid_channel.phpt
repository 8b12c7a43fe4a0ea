--TEST--
Realtime\broadcast() throws ValueError for an invalid channel name (empty, over 200 bytes, other characters)
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
function rt_label(string $s): string
{
    return strlen($s) > 20 ? strlen($s) . ' bytes' : json_encode($s);
}
$bad = ['', str_repeat('a', 201), 'a b', 'caf' . "\u{e9}", "a\0b", 'a*', "news\n", 'ü', 'a{b}', 'a"b',
    'a\\b', 'a<b>', 'a|b', 'a^b'];
foreach ($bad as $channel) {
    try {
        Realtime\broadcast($channel, 'x');
        echo rt_label($channel), ": accepted\n";
    } catch (ValueError $e) {
        echo rt_label($channel), ': ', $e->getMessage(), "\n";
    }
}
/* Valid names get past the check (and then fail only for want of a hub). */
$good = ['a', str_repeat('z', 200), 'user:42', 'room#lobby', 'orders.eu-west', 'a=b,c=d', 'x@y;z',
    'A-Z_a-z_0-9', 'News', 'news/1', 'https://example.com/books/1?x=1&y=%20', '$x', '(x)', 'a+b', "it's!~[0]"];
foreach ($good as $channel) {
    try {
        Realtime\broadcast($channel, 'x');
    } catch (Realtime\Exception $e) {
        echo strlen($channel), ' bytes ok: ', rt_no_hub($e), "\n";
    }
}
?>
--EXPECT--
"": Realtime\broadcast(): Argument #1 ($channel) must be a channel name of 1 to 200 characters from A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~
201 bytes: Realtime\broadcast(): Argument #1 ($channel) must be a channel name of 1 to 200 characters from A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~
"a b": Realtime\broadcast(): Argument #1 ($channel) must be a channel name of 1 to 200 characters from A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~
"caf\u00e9": Realtime\broadcast(): Argument #1 ($channel) must be a channel name of 1 to 200 characters from A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~
"a\u0000b": Realtime\broadcast(): Argument #1 ($channel) must be a channel name of 1 to 200 characters from A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~
"a*": Realtime\broadcast(): Argument #1 ($channel) must be a channel name of 1 to 200 characters from A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~
"news\n": Realtime\broadcast(): Argument #1 ($channel) must be a channel name of 1 to 200 characters from A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~
"\u00fc": Realtime\broadcast(): Argument #1 ($channel) must be a channel name of 1 to 200 characters from A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~
"a{b}": Realtime\broadcast(): Argument #1 ($channel) must be a channel name of 1 to 200 characters from A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~
"a\"b": Realtime\broadcast(): Argument #1 ($channel) must be a channel name of 1 to 200 characters from A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~
"a\\b": Realtime\broadcast(): Argument #1 ($channel) must be a channel name of 1 to 200 characters from A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~
"a<b>": Realtime\broadcast(): Argument #1 ($channel) must be a channel name of 1 to 200 characters from A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~
"a|b": Realtime\broadcast(): Argument #1 ($channel) must be a channel name of 1 to 200 characters from A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~
"a^b": Realtime\broadcast(): Argument #1 ($channel) must be a channel name of 1 to 200 characters from A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~
1 bytes ok: no hub
200 bytes ok: no hub
7 bytes ok: no hub
10 bytes ok: no hub
14 bytes ok: no hub
7 bytes ok: no hub
5 bytes ok: no hub
11 bytes ok: no hub
4 bytes ok: no hub
6 bytes ok: no hub
37 bytes ok: no hub
2 bytes ok: no hub
3 bytes ok: no hub
3 bytes ok: no hub
9 bytes ok: no hub
