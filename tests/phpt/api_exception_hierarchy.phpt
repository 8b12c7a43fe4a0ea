--TEST--
Realtime\Exception extends RuntimeException and is an ordinary, extendable exception class
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
$c = new ReflectionClass('Realtime\Exception');
var_dump($c->getParentClass()->getName(), $c->isSubclassOf('Exception'), $c->isSubclassOf('Throwable'),
    $c->isFinal(), $c->isAbstract(), $c->isInternal(), $c->getNamespaceName(), $c->getShortName());
$e = new Realtime\Exception('boom', 7, new LogicException('inner'));
var_dump($e instanceof RuntimeException, $e->getMessage(), $e->getCode(), get_class($e->getPrevious()));
class MyRealtimeException extends Realtime\Exception {}
try {
    throw new MyRealtimeException('mine');
} catch (RuntimeException $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
?>
--EXPECT--
string(16) "RuntimeException"
bool(true)
bool(true)
bool(false)
bool(false)
bool(true)
string(8) "Realtime"
string(9) "Exception"
bool(true)
string(4) "boom"
int(7)
string(14) "LogicException"
MyRealtimeException: mine
