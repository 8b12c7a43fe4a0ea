--TEST--
Reflection of every function and class matches stubs/realtime.stub.php (types, names, defaults, return types)
--EXTENSIONS--
realtime
--SKIPIF--
<?php if (!is_file(dirname(__DIR__, 2) . '/stubs/realtime.stub.php')) die('skip stubs/realtime.stub.php not found');
--INI--
pcre.jit=0
--FILE--
<?php
/* A type in a canonical spelling: ?T is T|null, union members sorted. */
function norm_type(string $t): string
{
    $t = ltrim(trim($t), '\\');
    if ($t === 'mixed' || $t === 'null') {
        return $t;
    }
    if ($t[0] === '?') {
        $t = substr($t, 1) . '|null';
    }
    $parts = array_map(fn($p) => ltrim($p, '\\'), explode('|', $t));
    sort($parts);
    return implode('|', $parts);
}

function norm_default(string $d): string
{
    $d = trim($d);
    return in_array(strtolower($d), ['null', 'true', 'false'], true) ? strtolower($d) : $d;
}

function render_default(ReflectionParameter $p): string
{
    $v = $p->getDefaultValue();
    return match (true) {
        $v === null => 'null',
        is_bool($v) => $v ? 'true' : 'false',
        $v === [] => '[]',
        default => var_export($v, true),
    };
}

/* Splits a parameter list at commas outside brackets. */
function split_params(string $s): array
{
    $out = [];
    $depth = 0;
    $cur = '';
    foreach (str_split($s) as $ch) {
        if ($ch === '[' || $ch === '(') $depth++;
        if ($ch === ']' || $ch === ')') $depth--;
        if ($ch === ',' && $depth === 0) {
            $out[] = trim($cur);
            $cur = '';
        } else {
            $cur .= $ch;
        }
    }
    if (trim($cur) !== '') $out[] = trim($cur);
    return $out;
}

$stub = file_get_contents(dirname(__DIR__, 2) . '/stubs/realtime.stub.php');
preg_match('/namespace\s+([\w\\\\]+)/', $stub, $m);
$ns = $m[1];
preg_match_all('/function\s+(\w+)\s*\((.*?)\)\s*:\s*([^{\s]+)\s*\{\s*\}/s', $stub, $fns, PREG_SET_ORDER);
$problems = [];
$stubNames = [];
foreach ($fns as [, $name, $params, $ret]) {
    $fq = "$ns\\$name";
    $stubNames[] = strtolower($fq);
    if (!function_exists($fq)) {
        $problems[] = "$fq: in the stub, not in the extension";
        continue;
    }
    $f = new ReflectionFunction($fq);
    $want = [];
    foreach (split_params($params) as $p) {
        if (!preg_match('/^(\S+)\s+\$(\w+)(?:\s*=\s*(.+))?$/s', $p, $pm)) {
            $problems[] = "$fq: cannot parse parameter '$p'";
            continue;
        }
        $want[] = norm_type($pm[1]) . ' $' . $pm[2] . (isset($pm[3]) ? ' = ' . norm_default($pm[3]) : '');
    }
    $have = [];
    foreach ($f->getParameters() as $p) {
        $have[] = norm_type((string) $p->getType()) . ' $' . $p->getName()
            . ($p->isOptional() ? ' = ' . render_default($p) : '');
    }
    $wantSig = implode(', ', $want) . ': ' . norm_type($ret);
    $haveSig = implode(', ', $have) . ': ' . norm_type((string) $f->getReturnType());
    if ($wantSig !== $haveSig) {
        $problems[] = "$fq\n  stub:       ($wantSig)\n  reflection: ($haveSig)";
    }
    if ($f->getNumberOfRequiredParameters() !== count(array_filter($want, fn($w) => !str_contains($w, ' = ')))) {
        $problems[] = "$fq: required parameter count differs";
    }
}
$extNames = array_map('strtolower', array_keys((new ReflectionExtension('realtime'))->getFunctions()));
foreach (array_diff($extNames, $stubNames) as $extra) {
    $problems[] = "$extra: in the extension, not in the stub";
}
preg_match_all('/class\s+(\w+)\s+extends\s+([\w\\\\]+)/', $stub, $classes, PREG_SET_ORDER);
foreach ($classes as [, $class, $parent]) {
    $fq = "$ns\\$class";
    if (!class_exists($fq)) {
        $problems[] = "$fq: in the stub, not in the extension";
    } elseif (get_parent_class($fq) !== ltrim($parent, '\\')) {
        $problems[] = "$fq: parent " . get_parent_class($fq) . ", stub says $parent";
    }
}
echo count($fns) >= 4 ? "stub parsed\n" : "stub not parsed\n";
echo $problems ? implode("\n", $problems) . "\n" : "reflection matches the stub\n";

/* The core calls, spelled out. */
$b = new ReflectionFunction('Realtime\broadcast');
[$channel, $message, $event] = $b->getParameters();
var_dump($channel->getName(), $channel->allowsNull(), $message->getName(), (string) $message->getType(),
    $event->getName(), $event->allowsNull(), $event->getDefaultValue(), (string) $b->getReturnType());
foreach (['start' => 'bool', 'stop' => 'bool', 'status' => 'array'] as $fn => $type) {
    $f = new ReflectionFunction("Realtime\\$fn");
    echo "$fn: ", $f->getNumberOfParameters(), ' parameters, returns ', $f->getReturnType(),
        (string) $f->getReturnType() === $type ? '' : " (expected $type)", "\n";
}
?>
--EXPECT--
stub parsed
reflection matches the stub
string(7) "channel"
bool(false)
string(7) "message"
string(5) "mixed"
string(5) "event"
bool(true)
NULL
string(6) "?array"
start: 0 parameters, returns bool
stop: 0 parameters, returns bool
status: 0 parameters, returns array
