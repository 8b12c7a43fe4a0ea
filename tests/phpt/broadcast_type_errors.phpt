--TEST--
Realtime\broadcast() argument types: TypeError under strict_types, ArgumentCountError for missing arguments
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
declare(strict_types=1);
require __DIR__ . '/ws_client.inc';

$calls = [
    'int channel' => fn() => Realtime\broadcast(42, 'x'),
    'null channel' => fn() => Realtime\broadcast(null, 'x'),
    'object channel' => fn() => Realtime\broadcast(new stdClass, 'x'),
    'int in channel list' => fn() => Realtime\broadcast(['news', 42], 'x'),
    'int event' => fn() => Realtime\broadcast('news', 'x', 7),
    'array event' => fn() => Realtime\broadcast('news', 'x', []),
    'no message' => fn() => Realtime\broadcast('news'),
    'no arguments' => fn() => Realtime\broadcast(),
    'start arg' => fn() => Realtime\start(1),
    'stop arg' => fn() => Realtime\stop(true),
    'status arg' => fn() => Realtime\status('x'),
    'unknown named' => fn() => Realtime\broadcast('news', 'x', evnt: 'e'),
];
foreach ($calls as $label => $call) {
    try {
        $call();
        echo "$label: no error\n";
    } catch (Error $e) {
        echo "$label: ", get_class($e), ': ', $e->getMessage(), "\n";
    } catch (Realtime\Exception $e) {
        echo "$label: passed the checks: ", rt_no_hub($e), "\n";
    }
}
/* Named arguments work; the checks come before the hub is looked for. */
try {
    Realtime\broadcast(message: [1], channel: 'news', event: 'e');
} catch (Realtime\Exception $e) {
    echo 'named: ', rt_no_hub($e), "\n";
}
?>
--EXPECT--
int channel: TypeError: Realtime\broadcast(): Argument #1 ($channel) must be of type array|string, int given
null channel: TypeError: Realtime\broadcast(): Argument #1 ($channel) must be of type array|string, null given
object channel: TypeError: Realtime\broadcast(): Argument #1 ($channel) must be of type array|string, stdClass given
int in channel list: TypeError: Realtime\broadcast(): Argument #1 ($channel) must be a string or an array of strings
int event: TypeError: Realtime\broadcast(): Argument #3 ($event) must be of type ?string, int given
array event: TypeError: Realtime\broadcast(): Argument #3 ($event) must be of type ?string, array given
no message: ArgumentCountError: Realtime\broadcast() expects at least 2 arguments, 1 given
no arguments: ArgumentCountError: Realtime\broadcast() expects at least 2 arguments, 0 given
start arg: ArgumentCountError: Realtime\start() expects exactly 0 arguments, 1 given
stop arg: ArgumentCountError: Realtime\stop() expects exactly 0 arguments, 1 given
status arg: ArgumentCountError: Realtime\status() expects exactly 0 arguments, 1 given
unknown named: Error: Unknown named parameter $evnt
named: no hub
