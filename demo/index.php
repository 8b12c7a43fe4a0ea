<?php
// Chat demo page. Being PHP, this request also starts the realtime hub in
// this PHP process; the page then connects to it from the browser.
//
// Who is who: login.php keeps the name in the PHP session; token.php turns
// it into a signed token the page connects with; everyone on the presence
// channel "presence-chat" sees who is online; typing notices are client
// events (whispers) that never touch PHP; messages go through send.php.
// The page loads the last 50 messages from the channel's history and uses
// the JavaScript client (clients/js), which reconnects and recovers what was
// sent while it was away.
declare(strict_types=1);

require __DIR__ . '/session.php';

// The page is for ?as=NAME, a name this browser logged in with (each tab
// may have its own); otherwise log in first.
$name = demo_user($_GET['as'] ?? null);
if ($name === null) {
    header('Location: login.php', true, 302);
    exit;
}

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

// The chat's last 50 messages (realtime.history keeps them): the page shows
// them and its client continues from the last one's position, so nothing
// published meanwhile is missed or shown twice.
$history = [];
if ($running) {
    try {
        $history = array_values(array_filter(
            Realtime\history(CHANNEL, 50),
            static fn (array $m): bool => $m['event'] === 'message'
        ));
    } catch (Throwable $e) {
        $history = []; // no history configured, or lost: start from now
    }
}

$config = ['port' => $port, 'path' => $path, 'channel' => CHANNEL, 'me' => $name];
$json = static fn (mixed $v): string => json_encode($v, JSON_HEX_TAG | JSON_HEX_AMP | JSON_HEX_APOS | JSON_HEX_QUOT);
header('Content-Type: text/html; charset=utf-8');
header('Cache-Control: no-store');
?><!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
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
  main {
    max-width: 860px; margin: 0 auto; padding: 24px 16px; height: 100vh;
    display: grid; grid-template-columns: 1fr 200px; grid-template-rows: auto auto 1fr auto auto auto; gap: 8px 12px;
  }
  header { grid-column: 1 / -1; display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
  h1 { font-size: 20px; margin: 0; }
  #status { font-size: 13px; color: var(--muted); display: flex; align-items: center; gap: 6px; }
  #status::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--warn); }
  #status.online::before { background: var(--ok); }
  #status.offline::before { background: var(--bad); }
  .me { margin-left: auto; font-size: 14px; color: var(--muted); display: flex; gap: 8px; align-items: baseline; }
  .me strong { color: var(--ink); }
  .me button { font: inherit; font-size: 13px; padding: 2px 8px; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); color: var(--ink); cursor: pointer; }
  .notice { grid-column: 1 / -1; background: #fff7ed; border: 1px solid #fed7aa; color: var(--warn); padding: 8px 12px; border-radius: 8px; font-size: 14px; margin: 0; }
  #log {
    grid-column: 1; grid-row: 3; min-height: 200px; overflow-y: auto; list-style: none; margin: 0; padding: 12px;
    background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
  }
  #log li { padding: 6px 0; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; white-space: pre-wrap; }
  #log li:last-child { border-bottom: 0; }
  #log .who { font-weight: 600; margin-right: 6px; }
  #log .mine .who { color: var(--accent); }
  #log time { color: var(--muted); font-size: 12px; margin-left: 6px; }
  #log .sys { color: var(--muted); font-style: italic; font-size: 13px; }
  aside { grid-column: 2; grid-row: 3; background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px; overflow-y: auto; }
  aside h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0 0 8px; }
  #members { list-style: none; margin: 0; padding: 0; }
  #members li { padding: 3px 0; display: flex; align-items: center; gap: 6px; overflow-wrap: anywhere; }
  #members li::before { content: ""; flex: none; width: 8px; height: 8px; border-radius: 50%; background: var(--ok); }
  #members .you { color: var(--muted); font-size: 12px; }
  #typing { grid-column: 1 / -1; grid-row: 4; color: var(--muted); font-size: 13px; min-height: 1.3em; margin: 0; }
  #form { grid-column: 1 / -1; grid-row: 5; display: grid; grid-template-columns: 1fr auto; gap: 8px; }
  input, button { font: inherit; padding: 9px 11px; border-radius: 8px; border: 1px solid var(--line); background: var(--panel); color: var(--ink); }
  input:focus { outline: 2px solid color-mix(in srgb, var(--accent) 40%, transparent); border-color: var(--accent); }
  #form button { background: var(--accent); border-color: var(--accent); color: #fff; cursor: pointer; }
  #form button:disabled { opacity: .6; cursor: default; }
  #error { grid-column: 1 / -1; grid-row: 6; color: var(--bad); font-size: 13px; min-height: 1.2em; margin: 0; }
  @media (max-width: 600px) {
    main { grid-template-columns: 1fr; grid-template-rows: auto auto auto 1fr auto auto auto; }
    aside { grid-column: 1; grid-row: 3; }
    #log { grid-row: 4; }
    #typing { grid-row: 5; } #form { grid-row: 6; } #error { grid-row: 7; }
  }
</style>
</head>
<body>
<main>
  <header>
    <h1>realtime chat</h1>
    <span id="status">connecting…</span>
    <form class="me" method="post" action="logout.php">
      <input type="hidden" name="name" value="<?= h($name) ?>">
      <span>Signed in as <strong><?= h($name) ?></strong></span>
      <button type="submit">Log out</button>
    </form>
  </header>
<?php if (!$loaded): ?>
  <p class="notice">The realtime extension is not loaded in this PHP. Start the demo with <code>bash scripts/demo.sh</code>.</p>
<?php elseif (!$running): ?>
  <p class="notice">The realtime hub is not running in this PHP process (see the server's log).</p>
<?php endif; ?>
  <ul id="log" aria-live="polite"></ul>
  <aside>
    <h2>Online (<span id="count">0</span>)</h2>
    <ul id="members"></ul>
  </aside>
  <p id="typing" aria-live="polite"></p>
  <form id="form" autocomplete="off">
    <input id="text" name="text" placeholder="Say something…" maxlength="500" required autofocus>
    <button id="send" type="submit">Send</button>
  </form>
  <p id="error" role="alert"></p>
</main>
<script type="module">
const RT = <?= $json($config) ?>;
const HISTORY = <?= $json($history) ?>;
// The hub serves its own client, the version that speaks its protocol.
const { Realtime, UnauthorizedError } = await import(`${location.protocol}//${location.hostname}:${RT.port}${RT.path}/realtime.js`);
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const log = $('log'), statusEl = $('status'), form = $('form'), textEl = $('text');
  const sendBtn = $('send'), errorEl = $('error'), membersEl = $('members'), countEl = $('count'), typingEl = $('typing');

  // Everything from the network is shown with textContent: never parsed as HTML.
  let members = new Map(); // user id -> info
  const typing = new Map();  // user id -> time of the last "typing" whisper
  const leaving = new Map(); // user id -> timer of the "left" notice
  const TYPING_SHOWN_MS = 3000, TYPING_EVERY_MS = 1500, LEAVE_QUIET_MS = 3000;

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
    if (name === RT.me) li.className = 'mine';
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

  const nameOf = (id) => (members.get(id) && members.get(id).name) || id;

  function renderMembers() {
    const names = [...members.keys()].sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
    membersEl.replaceChildren(...names.map((id) => {
      const li = document.createElement('li');
      li.textContent = nameOf(id);
      if (id === RT.me) {
        const you = document.createElement('span');
        you.className = 'you';
        you.textContent = '(you)';
        li.append(you);
      }
      return li;
    }));
    countEl.textContent = String(members.size);
  }

  let typingTimer = null;
  function renderTyping() {
    const now = Date.now();
    for (const [id, at] of typing) if (now - at > TYPING_SHOWN_MS || !members.has(id)) typing.delete(id);
    const names = [...typing.keys()].map(nameOf);
    typingEl.textContent =
      names.length === 0 ? '' :
      names.length === 1 ? `${names[0]} is typing…` :
      names.length === 2 ? `${names[0]} and ${names[1]} are typing…` : 'Several people are typing…';
    clearTimeout(typingTimer);
    if (typing.size) typingTimer = setTimeout(renderTyping, 500);
  }

  // --- The last 50 messages, rendered by PHP from the channel's history ---
  for (const m of HISTORY) chat(m.data);
  const last = HISTORY[HISTORY.length - 1];

  // --- The client: a fresh token before every (re)connect --------------------
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const rt = new Realtime({
    url: `${scheme}://${location.hostname}:${RT.port}${RT.path}`,
    token: async () => {
      const res = await fetch(`token.php?name=${encodeURIComponent(RT.me)}`, { cache: 'no-store', credentials: 'same-origin' });
      if (res.status === 401) {
        location.href = 'login.php';
        throw new UnauthorizedError('logged out');
      }
      const body = await res.json();
      if (!body.ok) throw new Error(body.error || `HTTP ${res.status}`);
      return body.token;
    },
  });
  window.rt = rt;

  rt.on('connecting', ({ attempt }) => setStatus(attempt ? 'reconnecting…' : 'connecting…'));
  rt.on('disconnected', ({ code, delay }) => {
    typing.clear();
    renderTyping();
    const when = delay === null ? 'waiting for the network' : `retrying in ${Math.ceil(delay / 1000)} s`;
    setStatus(`offline (${code || 'no token'}), ${when}`, 'offline');
  });
  rt.on('closed', async ({ code }) => {
    setStatus('disconnected', 'offline');
    if (code !== 4009) return;
    // disconnectUser() (a logout): connect again only with a fresh token.
    system('The server disconnected this session.');
    rt.connect();
  });

  const sub = rt.subscribe(RT.channel, {
    // Continue right after the last message shown: nothing missed, nothing twice.
    since: last ? { offset: last.offset, epoch: last.epoch } : undefined,
    onSubscribed: () => setStatus('live', 'online'),
    onUnrecovered: ({ position }) => {
      if (position || HISTORY.length) system('Reconnected after a long time away: reload the page to see every message.');
      else system('Reconnected. Messages sent while offline are not shown.');
    },
    onMessage: (data, msg) => {
      if (msg.event !== 'message' || !data) return;
      typing.delete(data.name);
      renderTyping();
      chat(data);
    },
    onMembers: (list) => {
      members = new Map([...list].map(([id, info]) => [id, info || {}]));
      renderMembers();
      renderTyping();
    },
    onJoin: ({ id }) => {
      // Back within a few seconds (a reload): say nothing.
      if (leaving.has(id)) {
        clearTimeout(leaving.get(id));
        leaving.delete(id);
      } else {
        system(`${nameOf(id)} joined`);
      }
    },
    onLeave: ({ id, info }) => {
      const name = (info && info.name) || id;
      clearTimeout(leaving.get(id));
      leaving.set(id, setTimeout(() => {
        leaving.delete(id);
        system(`${name} left`);
      }, LEAVE_QUIET_MS));
    },
    onWhisper: ({ event, from }) => {
      if (event === 'typing' && from && from.user_id !== undefined && from.user_id !== RT.me) {
        typing.set(from.user_id, Date.now());
        renderTyping();
      }
    },
    onError: (e) => system(`Server error: ${e.code}`),
  });

  // --- Typing notices are whispers: client to clients, no PHP involved ----
  let lastTyping = 0;
  textEl.addEventListener('input', () => {
    const now = Date.now();
    if (!textEl.value.trim() || now - lastTyping < TYPING_EVERY_MS) return;
    if (sub.whisper('typing', {})) lastTyping = now;
  });

  // --- Sending goes through PHP: send.php calls Realtime\broadcast() ------
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    errorEl.textContent = '';
    sendBtn.disabled = true;
    try {
      const body = new FormData(form);
      body.set('name', RT.me);
      const res = await fetch('send.php', { method: 'POST', body, credentials: 'same-origin' });
      if (res.status === 401) {
        location.href = 'login.php';
        return;
      }
      const answer = await res.json().catch(() => ({ ok: false, error: `HTTP ${res.status}` }));
      if (!answer.ok) throw new Error(answer.error || `HTTP ${res.status}`);
      textEl.value = '';
      lastTyping = 0;
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
