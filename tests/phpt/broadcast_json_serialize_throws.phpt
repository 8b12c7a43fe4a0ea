--TEST--
An exception thrown by jsonSerialize() during Realtime\broadcast() reaches the caller
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
--FILE--
<?php
class Boom implements JsonSerializable
{
    public function jsonSerialize(): mixed
    {
        throw new DomainException('cannot serialize Boom');
    }
}
try {
    Realtime\broadcast('news', ['item' => new Boom]);
    echo "sent\n";
} catch (Throwable $e) {
    do {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    } while ($e = $e->getPrevious());
}
?>
--EXPECT--
DomainException: cannot serialize Boom
