--TEST--
status() counts event streams (sse_connections) and malformed Last-Event-ID (sse_bad_last_event_id); realtime.sse_heartbeat defaults to 20
--EXTENSIONS--
realtime
--FILE--
<?php
$s = Realtime\status();
foreach (['sse_connections', 'sse_bad_last_event_id'] as $key) {
    echo $key, ': ', var_export($s[$key] ?? null, true), "\n";
}
echo 'realtime.sse_heartbeat: ', ini_get('realtime.sse_heartbeat'), "\n";
?>
--EXPECT--
sse_connections: 0
sse_bad_last_event_id: 0
realtime.sse_heartbeat: 20
