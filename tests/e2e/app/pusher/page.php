<?php
// A page that connects with pusher-js (the browser build from node_modules)
// to the hub and records what it receives in window.received.
//
//   ?key=...&port=...&channel=...
declare(strict_types=1);

$key = htmlspecialchars((string) ($_GET['key'] ?? ''), ENT_QUOTES);
$port = (int) ($_GET['port'] ?? 0);
$channel = htmlspecialchars((string) ($_GET['channel'] ?? 'browser'), ENT_QUOTES);
?><!doctype html>
<html>
<head><meta charset="utf-8"><title>pusher-js</title></head>
<body>
<p id="state">loading</p>
<script src="pusher-js.php"></script>
<script>
  window.received = [];
  window.subscribed = false;
  const pusher = new Pusher(<?= json_encode($key) ?>, {
    cluster: 'mt1',
    wsHost: '127.0.0.1',
    wsPort: <?= $port ?>,
    forceTLS: false,
    enabledTransports: ['ws'],
  });
  pusher.connection.bind('state_change', (s) => {
    document.getElementById('state').textContent = s.current;
  });
  const channel = pusher.subscribe(<?= json_encode($channel) ?>);
  channel.bind('pusher:subscription_succeeded', () => { window.subscribed = true; });
  channel.bind_global((event, data) => {
    if (!event.startsWith('pusher:')) window.received.push({ event, data });
  });
</script>
</body>
</html>
