--TEST--
Realtime\broadcast() throws Realtime\Exception, naming the cause, when the message cannot be JSON-encoded
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
enum Suit { case Hearts; }
$recursive = ['a' => 1];
$recursive['self'] = &$recursive;
$obj = new stdClass;
$obj->me = $obj;
$deep = 'x';
for ($i = 0; $i < 600; $i++) {
    $deep = [$deep];
}
$cases = [
    'invalid UTF-8 string' => "caf\xe9",
    'invalid UTF-8 in an array' => ['ok' => 'fine', 'bad' => "\xff"],
    'invalid UTF-8 key' => ["\xff" => 1],
    'INF' => INF,
    '-INF in a list' => [1, -INF],
    'NAN' => NAN,
    'resource' => STDIN,
    'recursive array' => $recursive,
    'recursive object' => $obj,
    'too deep' => $deep,
    'non-backed enum' => Suit::Hearts,
];
foreach ($cases as $label => $message) {
    try {
        Realtime\broadcast('news', $message);
        echo "$label: sent\n";
    } catch (Realtime\Exception $e) {
        echo "$label: ", $e->getMessage(), "\n";
    }
}
/* Break the cycles, so that valgrind runs (USE_ZEND_ALLOC=0) see no leak. */
unset($recursive['self'], $obj->me, $cases);
gc_collect_cycles();
/* The failed encodings leave json_last_error() alone. */
json_encode(1);
var_dump(json_last_error());
?>
--EXPECT--
invalid UTF-8 string: Realtime\broadcast(): the message cannot be sent: malformed UTF-8 (a string must be valid UTF-8)
invalid UTF-8 in an array: Realtime\broadcast(): the message cannot be sent: malformed UTF-8 (a string must be valid UTF-8)
invalid UTF-8 key: Realtime\broadcast(): the message cannot be sent: malformed UTF-8 (a string must be valid UTF-8)
INF: Realtime\broadcast(): the message cannot be sent: INF and NAN cannot be encoded
-INF in a list: Realtime\broadcast(): the message cannot be sent: INF and NAN cannot be encoded
NAN: Realtime\broadcast(): the message cannot be sent: INF and NAN cannot be encoded
resource: Realtime\broadcast(): the message cannot be sent: a resource or other unsupported type
recursive array: Realtime\broadcast(): the message cannot be sent: recursive references
recursive object: Realtime\broadcast(): the message cannot be sent: recursive references
too deep: Realtime\broadcast(): the message cannot be sent: maximum depth exceeded
non-backed enum: Realtime\broadcast(): the message cannot be sent: a non-backed enum
int(0)
