<?php
// Chat demo page. Being PHP, this request also starts the realtime hub in
// this PHP process; the page then connects to it from the browser.
declare(strict_types=1);

$loaded = extension_loaded('realtime');
$listen = (string) ini_get('realtime.listen');
$colon = strrpos($listen, ':');
$port = $colon === false ? 6001 : (int) substr($listen, $colon + 1);
$path = (string) (ini_get('realtime.path') ?: '/ws');

$running = false;
if ($loaded) {
    try {
        $running = (bool) (Realtime\status()['running'] ?? false);
    } catch (Throwable $e) {
        $running = false;
    }
}

$config = ['port' => $port, 'path' => $path];
$json = static fn (mixed $v): string => json_encode($v, JSON_HEX_TAG | JSON_HEX_AMP | JSON_HEX_APOS | JSON_HEX_QUOT);
header('Content-Type: text/html; charset=utf-8');
?><!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>realtime chat demo</title>
<style>
  :root {
    --bg: #f6f7f9; --panel: #fff; --ink: #1d2330; --muted: #6b7280;
    --line: #e3e6eb; --accent: #2563eb; --ok: #15803d; --warn: #b45309; --bad: #b91c1c;
  }
  * { box-sizing: border-box; }
  body {
    margin: 0; background: var(--bg); color: var(--ink);
    font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  }
  main { max-width: 680px; margin: 0 auto; padding: 24px 16px; display: flex; flex-direction: column; gap: 12px; height: 100vh; }
  header { display: flex; align-items: baseline; justify-content: space-between; gap: 12px; }
  h1 { font-size: 20px; margin: 0; }
  #status { font-size: 13px; color: var(--muted); display: flex; align-items: center; gap: 6px; }
  #status::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--warn); }
  #status.online::before { background: var(--ok); }
  #status.offline::before { background: var(--bad); }
  .notice { background: #fff7ed; border: 1px solid #fed7aa; color: var(--warn); padding: 8px 12px; border-radius: 8px; font-size: 14px; }
  #log {
    flex: 1; min-height: 200px; overflow-y: auto; list-style: none; margin: 0; padding: 12px;
    background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
  }
  #log li { padding: 6px 0; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; white-space: pre-wrap; }
  #log li:last-child { border-bottom: 0; }
  #log .who { font-weight: 600; margin-right: 6px; }
  #log .mine .who { color: var(--accent); }
  #log time { color: var(--muted); font-size: 12px; margin-left: 6px; }
  #log .sys { color: var(--muted); font-style: italic; font-size: 13px; }
  form { display: grid; grid-template-columns: 160px 1fr auto; gap: 8px; }
  input, button { font: inherit; padding: 9px 11px; border-radius: 8px; border: 1px solid var(--line); background: var(--panel); color: var(--ink); }
  input:focus { outline: 2px solid color-mix(in srgb, var(--accent) 40%, transparent); border-color: var(--accent); }
  button { background: var(--accent); border-color: var(--accent); color: #fff; cursor: pointer; }
  button:disabled { opacity: .6; cursor: default; }
  #error { color: var(--bad); font-size: 13px; min-height: 1.2em; margin: 0; }
  @media (max-width: 520px) { form { grid-template-columns: 1fr; } }
</style>
</head>
<body>
<main>
  <header>
    <h1>realtime chat</h1>
    <span id="status">connecting…</span>
  </header>
<?php if (!$loaded): ?>
  <p class="notice">The realtime extension is not loaded in this PHP. Start the demo with <code>bash scripts/demo.sh</code>.</p>
<?php elseif (!$running): ?>
  <p class="notice">The realtime hub is not running in this PHP process (see the server's log).</p>
<?php endif; ?>
  <ul id="log" aria-live="polite"></ul>
  <form id="form" autocomplete="off">
    <input id="name" name="name" placeholder="Your name" maxlength="32" required>
    <input id="text" name="text" placeholder="Say something…" maxlength="500" required>
    <button id="send" type="submit">Send</button>
  </form>
  <p id="error" role="alert"></p>
</main>
<script>
const RT = <?= $json($config) ?>;
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const log = $('log'), statusEl = $('status'), form = $('form');
  const nameEl = $('name'), textEl = $('text'), sendBtn = $('send'), errorEl = $('error');

  nameEl.value = localStorage.getItem('chat-name') || '';
  (nameEl.value ? textEl : nameEl).focus();

  function setStatus(text, cls) {
    statusEl.textContent = text;
    statusEl.className = cls || '';
  }

  function append(li) {
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.appendChild(li);
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  function system(text) {
    const li = document.createElement('li');
    li.className = 'sys';
    li.textContent = text;
    append(li);
  }

  function chat({ name, text, at }) {
    const li = document.createElement('li');
    if (name === nameEl.value.trim()) li.className = 'mine';
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = name;
    const body = document.createElement('span');
    body.textContent = text;
    const time = document.createElement('time');
    const when = new Date(at * 1000);
    time.dateTime = when.toISOString();
    time.textContent = when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    li.append(who, body, time);
    append(li);
  }

  // --- WebSocket with reconnect and exponential backoff -------------------
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const url = `${scheme}://${location.hostname}:${RT.port}${RT.path}`;
  let ws = null;
  let attempt = 0;
  let everConnected = false;

  function connect() {
    setStatus(attempt ? 'reconnecting…' : 'connecting…');
    ws = new WebSocket(url);
    ws.onopen = () => {
      ws.send(JSON.stringify({ action: 'subscribe', channel: 'chat', id: 'chat' }));
    };
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (msg.type === 'subscribed' && msg.channel === 'chat') {
        // No history: messages sent while we were away are not replayed.
        if (everConnected) system('Reconnected. Messages sent while offline are not shown.');
        everConnected = true;
        attempt = 0;
        setStatus('live', 'online');
      } else if (msg.type === 'message' && msg.channel === 'chat' && msg.data) {
        chat(msg.data);
      } else if (msg.type === 'error') {
        system(`Server error: ${msg.code}`);
      }
    };
    ws.onclose = (ev) => {
      ws = null;
      // 0.5 s, 1 s, 2 s, 4 s … capped at 15 s, with jitter so tabs spread out.
      const delay = Math.min(15000, 500 * 2 ** attempt) * (0.75 + Math.random() / 2);
      attempt++;
      setStatus(`offline (${ev.code}), retrying in ${Math.ceil(delay / 1000)} s`, 'offline');
      setTimeout(connect, delay);
    };
  }
  connect();

  // --- Sending goes through PHP: send.php calls Realtime\broadcast() ------
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    errorEl.textContent = '';
    localStorage.setItem('chat-name', nameEl.value.trim());
    sendBtn.disabled = true;
    try {
      const res = await fetch('send.php', { method: 'POST', body: new FormData(form) });
      const body = await res.json().catch(() => ({ ok: false, error: `HTTP ${res.status}` }));
      if (!body.ok) throw new Error(body.error || `HTTP ${res.status}`);
      textEl.value = '';
    } catch (err) {
      errorEl.textContent = err.message;
    } finally {
      sendBtn.disabled = false;
      textEl.focus();
    }
  });
})();
</script>
</body>
</html>
