--TEST--
Realtime\broadcast() without a hub in this process throws Realtime\Exception saying there is no hub
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
foreach ([['news', 'hello'], ['news', ['a' => 1], 'e'], [['a', 'b'], null]] as $args) {
    try {
        Realtime\broadcast(...$args);
        echo "no exception\n";
    } catch (Realtime\Exception $e) {
        echo get_class($e), ', ', str_starts_with($e->getMessage(), 'Realtime\broadcast(): ') ? 'names the function' : 'does not name the function',
            ', ', str_contains($e->getMessage(), 'no hub') ? 'says no hub runs' : 'unexpected message: ' . $e->getMessage(), "\n";
        var_dump($e instanceof RuntimeException, $e->getCode(), $e->getPrevious());
    }
}
var_dump(Realtime\status()['running'], Realtime\status()['messages_published']);
?>
--EXPECT--
Realtime\Exception, names the function, says no hub runs
bool(true)
int(0)
NULL
Realtime\Exception, names the function, says no hub runs
bool(true)
int(0)
NULL
Realtime\Exception, names the function, says no hub runs
bool(true)
int(0)
NULL
bool(false)
int(0)
