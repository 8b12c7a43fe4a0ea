--TEST--
Plain CLI runs no hub: status() reports running=false with the configured address
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.1:17700');
--INI--
pcre.jit=0
realtime.listen=127.77.0.1:17700
realtime.path=/socket
--FILE--
<?php
$s = Realtime\status();
$documented = ['running', 'pid', 'listen', 'path', 'broker', 'node_id', 'connections', 'channels',
    'messages_published', 'frames_delivered', 'slow_consumers', 'unauthorized', 'error'];
echo 'missing keys: ', implode(', ', array_diff($documented, array_keys($s))) ?: 'none', "\n";
var_dump($s['running'], $s['pid'] === getmypid(), $s['listen'], $s['path'], $s['broker'], $s['node_id'],
    $s['connections'], $s['channels'], $s['messages_published'], $s['frames_delivered'],
    $s['slow_consumers'], $s['error']);
/* Nothing listens: the module did not bind the port behind our back. */
var_dump(@stream_socket_client('tcp://127.77.0.1:17700', $errno, $errstr, 1.0));
?>
--EXPECT--
missing keys: none
bool(false)
bool(true)
string(16) "127.77.0.1:17700"
string(7) "/socket"
string(6) "memory"
int(0)
int(0)
int(0)
int(0)
int(0)
int(0)
NULL
bool(false)
