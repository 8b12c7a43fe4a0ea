--TEST--
Realtime\broadcast() with a hub running accepts every JSON-encodable type; each arrives JSON-encoded, a string as a JSON string
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.6:17705');
--INI--
pcre.jit=0
realtime.listen=127.77.0.6:17705
realtime.log=/dev/null
realtime.allow_anonymous=1
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
enum Status: string { case Active = 'active'; }
class Point implements JsonSerializable
{
    public function __construct(private int $x, private int $y) {}
    public function jsonSerialize(): array { return ['x' => $this->x, 'y' => $this->y]; }
}
$obj = new stdClass;
$obj->a = 1;
$obj->b = [true, null];
$messages = [
    'string' => 'hello',
    'JSON text string' => '{"a":1}',
    'unicode and slashes' => 'é/✓',
    'int' => 42,
    'negative int' => -7,
    'float' => 1.5,
    'whole float' => 2.0,
    'null' => null,
    'true' => true,
    'false' => false,
    'empty array' => [],
    'list' => [1, 'two', 3.0],
    'map' => ['id' => 42, 'title' => 'Hello'],
    'stdClass' => $obj,
    'empty object' => new stdClass,
    'JsonSerializable' => new Point(1, 2),
    'backed enum' => Status::Active,
];
var_dump(Realtime\start());
$c = WsClient::connect(rt_listen_addr());
$c->subscribe('types');
foreach ($messages as $label => $message) {
    Realtime\broadcast('types', $message);
    $frame = $c->recv();
    $prefix = '{"type":"message","channel":"types","data":';
    echo str_pad($label, 20), ' ', str_starts_with($frame, $prefix) ? substr($frame, strlen($prefix), -1) : "unexpected: $frame", "\n";
}
$deadline = rt_now() + RT_TIMEOUT;
while (Realtime\status()['messages_published'] < count($messages) && rt_now() < $deadline) {
    usleep(1000);
}
$s = Realtime\status();
var_dump($s['messages_published'] === count($messages), $s['frames_delivered'] >= count($messages));
var_dump(Realtime\stop());
?>
--EXPECT--
bool(true)
string               "hello"
JSON text string     "{\"a\":1}"
unicode and slashes  "é/✓"
int                  42
negative int         -7
float                1.5
whole float          2.0
null                 null
true                 true
false                false
empty array          []
list                 [1,"two",3.0]
map                  {"id":42,"title":"Hello"}
stdClass             {"a":1,"b":[true,null]}
empty object         {}
JsonSerializable     {"x":1,"y":2}
backed enum          "active"
bool(true)
bool(true)
bool(true)
