--TEST--
status() counts event streams and long-polling sessions (sse_connections, sse_bad_last_event_id, longpoll_sessions, longpoll_dropped); their settings' defaults
--EXTENSIONS--
realtime
--FILE--
<?php
$s = Realtime\status();
foreach (['sse_connections', 'sse_bad_last_event_id', 'longpoll_sessions', 'longpoll_dropped'] as $key) {
    echo $key, ': ', var_export($s[$key] ?? null, true), "\n";
}
foreach (['sse_heartbeat', 'longpoll_timeout', 'longpoll_session_ttl', 'longpoll_max_queue'] as $name) {
    echo "realtime.$name: ", ini_get("realtime.$name"), "\n";
}
?>
--EXPECT--
sse_connections: 0
sse_bad_last_event_id: 0
longpoll_sessions: 0
longpoll_dropped: 0
realtime.sse_heartbeat: 20
realtime.longpoll_timeout: 25
realtime.longpoll_session_ttl: 60
realtime.longpoll_max_queue: 1000
