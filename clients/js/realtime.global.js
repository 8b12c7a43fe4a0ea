// Generated from realtime.js by build.mjs: do not edit. A classic script:
// window.Realtime is the client class, with the module's other exports on it.
(function (global) {
'use strict';
// realtime.js: the realtime hub's client (docs/js-client.md); build.mjs makes realtime.global.js.

const STATES = ['connecting', 'connected', 'disconnected', 'closed'];
// Subscribe errors that a retry cannot fix: the subscription ends.
const FATAL_SUBSCRIBE = ['forbidden', 'invalid_channel', 'invalid_message', 'unknown_action'];

class UnauthorizedError extends Error {
  constructor(message = 'unauthorized') {
    super(message);
    this.name = 'UnauthorizedError';
    this.unauthorized = true;
  }
}

class Emitter {
  constructor() {
    this._on = {};
  }
  on(event, fn) {
    (this._on[event] = this._on[event] || []).push(fn);
    return () => this.off(event, fn);
  }
  off(event, fn) {
    const list = this._on[event];
    if (list) this._on[event] = list.filter((f) => f !== fn);
    return this;
  }
  _emit(event, ...args) {
    for (const fn of (this._on[event] || []).slice()) {
      // An app's listener that throws must not break the client's state machine.
      try {
        fn(...args);
      } catch (err) {
        console.error(`realtime: a "${event}" listener threw`, err);
      }
    }
  }
}

// Transports: { name, open(url, { open, message, close }) -> { send, close } } (docs/js-client.md).
function webSocketTransport({ WebSocket: Ctor } = {}) {
  return {
    name: 'websocket',
    open(url, h) {
      const WS = Ctor || globalThis.WebSocket;
      if (!WS) throw new Error('realtime: no WebSocket here; pass the WebSocket option (npm ws in Node)');
      const ws = new WS(url);
      let status;
      ws.onopen = () => h.open();
      ws.onmessage = (e) => h.message(typeof e.data === 'string' ? e.data : String(e.data));
      // Browsers hide a refused upgrade's status; npm ws names it in the error.
      ws.onerror = (e) => {
        const m = /Unexpected server response: (\d+)/.exec((e && (e.message || (e.error && e.error.message))) || '');
        if (m) status = Number(m[1]);
      };
      ws.onclose = (e) => h.close({ code: e.code, reason: e.reason || '', status });
      return {
        send: (text) => ws.send(text),
        close: () => {
          try {
            ws.close(1000);
          } catch {
            /* not open yet or already closed */
          }
        },
      };
    },
  };
}

const httpUrl = (url, path) => {
  const u = new URL(url.replace(/^ws/, 'http'));
  u.pathname += path;
  return u;
};

// SSE and long-polling: subscribes are HTTP calls, no whispers.
const caller = (url, h, id) => (text) => {
  const m = JSON.parse(text);
  if (m.action === 'ping') return h.message(`{"type":"pong","id":"${m.id}"}`);
  const q = httpUrl(url, `/sse/${m.action}`);
  const p = { connection_id: id(), channels: m.channel, id: m.id, ...m.since };
  for (const k in p) if (p[k] != null) q.searchParams.set(k, p[k]);
  if (m.action !== 'whisper') fetch(q, { method: 'POST', credentials: 'include' }).catch(() => {});
};

/** Server-Sent Events: an EventSource on <url>/sse. */
function sseTransport({ EventSource: Ctor } = {}) {
  return {
    name: 'sse',
    open(url, h) {
      const u = httpUrl(url, '/sse');
      u.searchParams.set('channels', '');
      const es = new (Ctor || EventSource)(u, { withCredentials: true });
      let id, done;
      const end = (code) => {
        es.close();
        if (!done) h.close({ code }), (done = 1);
      };
      es.onopen = () => h.open();
      es.onerror = () => end(1006);
      es.onmessage = (e) => {
        id = id || JSON.parse(e.data).connection_id;
        h.message(e.data);
      };
      es.addEventListener('close', (e) => end(JSON.parse(e.data).code));
      return { send: caller(url, h, () => id), close: () => end(1000) };
    },
  };
}

/** Long-polling: GET <url>/poll in a loop. */
function longPollTransport() {
  return {
    name: 'longpoll',
    open(url, h) {
      const u = httpUrl(url, '/poll');
      let id, done;
      const end = (code) => {
        if (!done) h.close({ code }), (done = 1);
      };
      (async () => {
        for (let n = 0; !done; n++) {
          let text;
          try {
            const r = await fetch(u, { credentials: 'include' });
            if (!r.ok) throw 0;
            text = await r.text();
          } catch {
            return end(1006);
          }
          if (!n) h.open();
          for (const ev of text.split('\n\n')) {
            const data = ev.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
            if (!data || done) continue;
            const m = JSON.parse(data);
            id = m.connection_id || id;
            if (ev.startsWith('event: poll')) {
              u.searchParams.set('connection_id', id);
              u.searchParams.set('ack', m.seq);
            } else if (ev.startsWith('event: close')) end(m.code);
            else h.message(data);
          }
        }
      })();
      return { send: caller(url, h, () => id), close: () => end(1000) };
    },
  };
}

/** Full jitter: a random delay between min and min(max, min * 2^attempt). */
function backoff(attempt, min, max) {
  return Math.min(max, min + Math.random() * Math.min(max, min * 2 ** Math.min(attempt, 30)));
}

class Subscription extends Emitter {
  constructor(client, channel, opts) {
    super();
    this.client = client;
    this.channel = channel;
    this.state = 'subscribing';
    this.members = new Map(); // presence: user id -> info
    this.position = opts.since ? { offset: opts.since.offset, epoch: opts.since.epoch } : null;
    this.recovered = null;
    this._subscribedOnce = false;
    this._attempt = 0;
    this._timer = null;
    this.listen(opts);
  }

  /** Adds the callbacks of subscribe()'s options as listeners. */
  listen(opts) {
    const map = {
      onMessage: 'message',
      onJoin: 'join',
      onLeave: 'leave',
      onMembers: 'members',
      onWhisper: 'whisper',
      onSubscribed: 'subscribed',
      onUnrecovered: 'unrecovered',
      onError: 'error',
    };
    for (const [k, ev] of Object.entries(map)) if (typeof opts[k] === 'function') this.on(ev, opts[k]);
  }

  /** Sends a client event to the channel's other subscribers; false when not subscribed. */
  whisper(event, data = null) {
    if (this.state !== 'subscribed') return false;
    return this.client._request({ action: 'whisper', channel: this.channel, event, data }, this, 'whisper');
  }

  unsubscribe() {
    if (this.state === 'unsubscribed') return;
    this.client._drop(this);
    this._setState('unsubscribed');
  }

  _setState(state) {
    if (state === this.state) return;
    this.state = state;
    this._emit('state', state);
    if (state === 'unsubscribed') {
      clearTimeout(this._timer);
      this._emit('unsubscribed');
    }
  }

  _send() {
    clearTimeout(this._timer);
    this._setState('subscribing');
    const req = { action: 'subscribe', channel: this.channel };
    // Without positions a resubscribe cannot recover: say so.
    this._recovering = this._subscribedOnce || !!this.position;
    if (this.position) req.since = this.position;
    this.client._request(req, this, 'subscribe');
  }

  _onSubscribed(reply) {
    this._attempt = 0;
    const wasRecovering = this._recovering;
    const recovered = wasRecovering ? reply.recovered === true && !!this.position : null;
    if (typeof reply.offset === 'number' && typeof reply.epoch === 'string') {
      // Recovered: the missed messages follow and move the position on.
      if (!recovered) this.position = { offset: reply.offset, epoch: reply.epoch };
    } else {
      this.position = null;
    }
    this.recovered = recovered;
    if (Array.isArray(reply.members)) this._setMembers(reply.members);
    this._subscribedOnce = true;
    this._setState('subscribed');
    const info = { recovered, wasRecovering, position: this.position };
    this._emit('subscribed', info);
    if (wasRecovering && !recovered) this._emit('unrecovered', info);
  }

  _onError(reply) {
    this._emit('error', reply);
    if (FATAL_SUBSCRIBE.includes(reply.code)) {
      this.client._drop(this);
      this._setState('unsubscribed');
      return;
    }
    // Rate limits and full hubs: try again later on this connection.
    const c = this.client;
    this._timer = setTimeout(() => c.state === 'connected' && this._send(), backoff(this._attempt++, c.minDelay, c.maxDelay));
  }

  _setMembers(list) {
    const fresh = new Map();
    for (const m of list) if (m && m.id !== undefined) fresh.set(String(m.id), m.info === undefined ? null : m.info);
    const old = this.members;
    this.members = fresh;
    if (this._subscribedOnce) {
      // A resubscribe: tell the app who came and went while it was away.
      for (const [id, info] of old) if (!fresh.has(id)) this._emit('leave', { id, info });
      for (const [id, info] of fresh) if (!old.has(id)) this._emit('join', { id, info });
    }
    this._emit('members', this.members);
  }

  _onMember(msg) {
    const m = msg.member;
    if (!m || m.id === undefined) return;
    const id = String(m.id);
    if (msg.type === 'member_added') {
      if (this.members.has(id)) return;
      this.members.set(id, m.info === undefined ? null : m.info);
      this._emit('join', { id, info: this.members.get(id) });
    } else {
      if (!this.members.has(id)) return;
      const info = this.members.get(id);
      this.members.delete(id);
      this._emit('leave', { id, info });
    }
    this._emit('members', this.members);
  }

  _onMessage(msg) {
    if (this.state !== 'subscribed') return; // a resync is under way: the replay brings it
    if (typeof msg.offset === 'number' && typeof msg.epoch === 'string') {
      const p = this.position;
      if (p && p.epoch === msg.epoch && msg.offset <= p.offset) return; // seen already
      if (p && (p.epoch !== msg.epoch || msg.offset !== p.offset + 1)) {
        // A gap or a new epoch: resubscribe from what it has, never out of order.
        this.client._resync(this);
        return;
      }
      this.position = { offset: msg.offset, epoch: msg.epoch };
    }
    this._emit('message', msg.data, msg);
  }
}

class Realtime extends Emitter {
  // options: see realtime.d.ts and docs/js-client.md.
  constructor(options = {}) {
    super();
    const loc = globalThis.location;
    this.url = options.url || (loc ? `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws` : '');
    if (!this.url) throw new Error('realtime: the url option is required here');
    this.token = options.token;
    const named = { websocket: () => webSocketTransport(options), sse: () => sseTransport(options), longpoll: longPollTransport };
    this.transports = (options.transports || ['websocket']).map((t) => (t.open ? t : named[t]()));
    this.minDelay = options.minDelay ?? 500;
    this.maxDelay = options.maxDelay ?? 20000;
    this.pingInterval = options.pingInterval ?? 25000;
    this.pongTimeout = options.pongTimeout ?? 10000;
    this.state = 'closed';
    this.connectionId = null;
    this.userId = null;
    this.transport = null; // name of the transport in use
    this._subs = new Map();
    this._pending = new Map();
    this._ids = 0;
    this._gen = 0;
    this._attempt = 0;
    this._ti = 0;
    this._conn = null;
    this._timer = null;
    this._ping = null;
    this._online = () => this.state === 'disconnected' && this._reconnectNow();
    this._offline = () => this._conn && this._lost(0, 'the browser went offline');
    // On the next tick, so that listeners added after `new` see 'connecting'.
    if (options.autoConnect !== false) Promise.resolve().then(() => this.connect());
  }

  connect() {
    if (this.state !== 'closed') return;
    this._attempt = 0;
    if (typeof globalThis.addEventListener === 'function') {
      globalThis.addEventListener('online', this._online);
      globalThis.addEventListener('offline', this._offline);
    }
    this._open();
  }

  /** Closes the connection for good (until connect()); subscriptions are kept for it. */
  close() {
    this._end(1000, 'closed by the app');
  }

  subscribe(channel, opts = {}) {
    let sub = this._subs.get(channel);
    if (sub) {
      sub.listen(opts);
      return sub;
    }
    sub = new Subscription(this, channel, opts);
    this._subs.set(channel, sub);
    if (this.state === 'connected') sub._send();
    return sub;
  }

  subscription(channel) {
    return this._subs.get(channel) || null;
  }

  _setState(state, detail = {}) {
    const previous = this.state;
    if (state === previous && state !== 'disconnected') return;
    this.state = state;
    const info = { state, previous, ...detail };
    this._emit('state', info);
    this._emit(state, info);
  }

  async _open() {
    const gen = ++this._gen;
    clearTimeout(this._timer);
    this._setState('connecting', { attempt: this._attempt });
    let token = this.token;
    if (typeof token === 'function') {
      try {
        token = await token();
      } catch (err) {
        if (gen !== this._gen) return;
        if (err && err.unauthorized) return this._end(4001, `unauthorized: ${err.message}`);
        return this._retry(0, `could not get a token: ${(err && err.message) || err}`);
      }
      if (gen !== this._gen) return;
    }
    let url = this.url;
    if (token) url += `${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
    const t = this.transports[this._ti % this.transports.length];
    let opened = false;
    const mine = () => gen === this._gen;
    try {
      this._conn = t.open(url, {
        open: () => {
          if (!mine()) return;
          opened = true;
          if (this.transport !== t.name) this._emit('transport', (this.transport = t.name));
          this._alive();
        },
        message: (text) => mine() && this._onText(text),
        close: ({ code, reason, status }) => {
          if (!mine()) return;
          this._conn = null;
          // A transport that never opened may not work here: try the next one.
          if (!opened) this._ti++;
          this._closed(code, reason, status);
        },
      });
    } catch (err) {
      this._conn = null;
      this._ti++;
      this._retry(0, String((err && err.message) || err));
    }
  }

  _closed(code, reason, status) {
    if (status === 401 || status === 403) return this._end(4001, `refused with ${status}: check the token`, status);
    // The app ended this user's connections: a new token first (docs/protocol.md).
    if (code === 4009) return this._end(code, reason || 'disconnected by the app');
    // A worker restarts and another takes over: at once, once per drop.
    if (code === 1012 && this._attempt === 0) return this._retry(code, reason, 0);
    this._retry(code, reason || (status ? `refused with ${status}` : ''));
  }

  _retry(code, reason, delay) {
    this._stopPing();
    this._conn = null;
    this.connectionId = null;
    for (const sub of this._subs.values()) {
      clearTimeout(sub._timer);
      sub._setState('subscribing');
    }
    this._pending.clear();
    const offline = globalThis.navigator && globalThis.navigator.onLine === false;
    if (delay === undefined) delay = backoff(this._attempt, this.minDelay, this.maxDelay);
    this._attempt++;
    clearTimeout(this._timer);
    // Offline: wait for the browser's online event instead of a timer.
    if (!offline) this._timer = setTimeout(() => this._open(), delay);
    this._setState('disconnected', { code, reason, delay: offline ? null : delay });
  }

  _reconnectNow() {
    this._attempt = 0;
    this._open();
  }

  /** Drops the current connection without waiting for its close event (dead or offline). */
  _lost(code, reason) {
    const conn = this._conn;
    this._gen++;
    if (conn) conn.close();
    this._retry(code, reason);
  }

  _end(code, reason, status) {
    this._gen++;
    clearTimeout(this._timer);
    this._stopPing();
    if (this._conn) this._conn.close();
    this._conn = null;
    this.connectionId = null;
    this._pending.clear();
    for (const sub of this._subs.values()) {
      clearTimeout(sub._timer);
      sub._setState('subscribing');
    }
    if (typeof globalThis.removeEventListener === 'function') {
      globalThis.removeEventListener('online', this._online);
      globalThis.removeEventListener('offline', this._offline);
    }
    this._setState('closed', { code, reason, status });
  }

  // Liveness: after pingInterval of silence ask for a pong; none within pongTimeout = dead.
  _alive() {
    this._stopPing();
    this._seen = Date.now();
    if (!this.pingInterval) return;
    const check = () => {
      const idle = Date.now() - this._seen;
      if (idle < this.pingInterval) {
        this._ping = setTimeout(check, this.pingInterval - idle);
        return;
      }
      const asked = Date.now();
      this._request({ action: 'ping' }, null, 'ping');
      this._ping = setTimeout(() => (this._seen >= asked ? check() : this._lost(4000, 'no answer to ping')), this.pongTimeout);
    };
    this._ping = setTimeout(check, this.pingInterval);
  }

  _stopPing() {
    clearTimeout(this._ping);
    this._ping = null;
  }

  _send(obj) {
    if (!this._conn) return false;
    try {
      this._conn.send(JSON.stringify(obj));
      return true;
    } catch {
      return false;
    }
  }

  _request(obj, sub, kind) {
    const seq = ++this._ids;
    const id = `${kind[0]}${seq}`;
    if (!this._send({ ...obj, id })) return false;
    this._pending.set(id, { sub, kind, seq });
    // An accepted whisper gets no reply: bound what waits for one.
    if (this._pending.size > 256) this._pending.delete(this._pending.keys().next().value);
    return true;
  }

  /** Takes the request a reply answers; replies come in order, so older whispers were accepted. */
  _answered(id) {
    const p = id !== undefined ? this._pending.get(id) : undefined;
    if (!p) return undefined;
    for (const [k, v] of this._pending) {
      if (v.seq > p.seq) break;
      if (v === p || v.kind === 'whisper') this._pending.delete(k);
    }
    return p;
  }

  _drop(sub) {
    clearTimeout(sub._timer);
    if (this._subs.get(sub.channel) === sub) this._subs.delete(sub.channel);
    if (this.state === 'connected') this._request({ action: 'unsubscribe', channel: sub.channel }, sub, 'unsubscribe');
  }

  // Subscribing again with a position replays from there; no unsubscribe: presence holds.
  _resync(sub) {
    sub._send();
  }

  _onText(text) {
    this._seen = Date.now();
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    const p = this._answered(msg.id);
    const sub = typeof msg.channel === 'string' ? this._subs.get(msg.channel) : undefined;
    switch (msg.type) {
      case 'connected':
        this.connectionId = msg.connection_id;
        this.userId = msg.user_id === undefined ? null : msg.user_id;
        this._attempt = 0;
        this._setState('connected', { connectionId: this.connectionId, transport: this.transport });
        for (const s of this._subs.values()) s._send();
        return;
      case 'subscribed':
        if (p && p.kind === 'subscribe' && this._subs.get(p.sub.channel) === p.sub) p.sub._onSubscribed(msg);
        return;
      case 'message':
        if (sub) sub._onMessage(msg);
        else if (msg.channel === undefined) this._emit('message', msg.data, msg);
        return;
      case 'member_added':
      case 'member_removed':
        if (sub && sub.state === 'subscribed') sub._onMember(msg);
        return;
      case 'whisper':
        if (sub) sub._emit('whisper', { event: msg.event, data: msg.data, from: msg.from });
        return;
      case 'error':
        if (p && p.kind === 'subscribe' && this._subs.get(p.sub.channel) === p.sub) p.sub._onError(msg);
        else if (p && p.sub) p.sub._emit('error', msg);
        else this._emit('error', msg);
        return;
      default:
        return; // pong, unsubscribed, and what later versions add
    }
  }
}
Object.assign(Realtime, { UnauthorizedError, webSocketTransport, sseTransport, longPollTransport, backoff, Subscription, Realtime, STATES });
global.Realtime = Realtime;
})(typeof globalThis !== 'undefined' ? globalThis : this);
