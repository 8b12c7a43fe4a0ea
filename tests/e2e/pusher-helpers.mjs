// Helpers for the Pusher-compatibility tests (pusher*.test.mjs): a hub
// configured with one Pusher app, pusher-js / Laravel Echo clients, the
// `pusher` server SDK, and promises with deadlines for what they receive.
import crypto from 'node:crypto';
import http from 'node:http';
import PusherJS from 'pusher-js';
import PusherServer from 'pusher';
import Echo from 'laravel-echo';
import { freePort, startServer, waitFor, withTimeout } from './lib/server.mjs';

export { PusherJS, PusherServer, Echo };

// pusher-js's Node transport (faye-websocket) arms a 30 s fallback timer
// whenever it closes a socket, even one the server has already closed (a
// refused connection, terminate_connections); unref it so that it does not
// hold the test process open.
{
  const WebSocketAPI = PusherJS.Runtime.getWebSocketAPI();
  const close = WebSocketAPI.prototype.close;
  WebSocketAPI.prototype.close = function (...args) {
    const result = close.apply(this, args);
    this._closeTimer?.unref?.();
    return result;
  };
}

export const APP = { id: '4242', key: 'app-key-1', secret: 'app-secret-1' };
// Signs the native protocol's connection tokens (realtime.secret).
export const NATIVE_SECRET = 'native-token-secret';
export const MASTER_KEY = crypto.createHash('sha256').update('e2e master key').digest('base64');

/** php -S with the hub and one Pusher app; `ini` adds or overrides settings. */
export function startPusherServer(ini = {}, opts = {}) {
  return startServer({
    ini: {
      app_id: APP.id,
      app_key: APP.key,
      app_secret: APP.secret,
      secret: NATIVE_SECRET,
      client_events: 1,
      ...ini,
    },
    env: { PUSHER_ENCRYPTION_MASTER_KEY_BASE64: MASTER_KEY },
    ...opts,
  });
}

/** pusher-js options pointing at the hub and the PHP auth endpoints. */
export function pusherOptions(server, { authParams = {}, userParams = {}, ...rest } = {}) {
  return {
    cluster: 'mt1',
    wsHost: '127.0.0.1',
    wsPort: server.wsPort,
    wssPort: server.wsPort,
    forceTLS: false,
    enabledTransports: ['ws'],
    channelAuthorization: {
      endpoint: `${server.httpUrl}/pusher/auth.php`,
      transport: 'ajax',
      params: authParams,
    },
    userAuthentication: {
      endpoint: `${server.httpUrl}/pusher/user-auth.php`,
      transport: 'ajax',
      params: userParams,
    },
    ...rest,
  };
}

/** pusher-js options for a pool deployment (tests/e2e/lib/pool): the
 * hub port, and the docroot's pusher-auth.php acting for `user`. */
export function poolPusherOptions(dep, user) {
  return {
    cluster: 'mt1',
    wsHost: '127.0.0.1',
    wsPort: dep.hubPort,
    forceTLS: false,
    enabledTransports: ['ws'],
    channelAuthorization: {
      endpoint: `http://127.0.0.1:${dep.frontPort}/pusher-auth.php`,
      transport: 'ajax',
      params: { user_id: user, name: `Name ${user}` },
    },
  };
}

/** Keeps every client a test opens, so after() can disconnect them all. */
export class Clients {
  constructor() {
    this.list = [];
  }

  add(client) {
    this.list.push(client);
    return client;
  }

  /** A pusher-js client, resolved once connected. */
  async pusher(server, opts = {}) {
    const { key = APP.key, ...rest } = opts;
    const p = this.add(new PusherJS(key, pusherOptions(server, rest)));
    await connected(p);
    return p;
  }

  /** A Laravel Echo client (broadcaster 'pusher'), resolved once connected. */
  async echo(server, { authParams = {}, userParams = {} } = {}) {
    const echo = new Echo({
      broadcaster: 'pusher',
      Pusher: PusherJS,
      key: APP.key,
      cluster: 'mt1',
      wsHost: '127.0.0.1',
      wsPort: server.wsPort,
      wssPort: server.wsPort,
      forceTLS: false,
      enabledTransports: ['ws'],
      authEndpoint: `${server.httpUrl}/pusher/auth.php`,
      auth: { headers: {}, params: authParams },
      userAuthentication: { endpoint: `${server.httpUrl}/pusher/user-auth.php`, headers: {}, params: userParams },
    });
    this.add(echo);
    await connected(echo.connector.pusher);
    return echo;
  }

  closeAll() {
    for (const c of this.list) {
      try {
        if (typeof c.disconnect === 'function') c.disconnect();
        else if (typeof c.close === 'function') c.close();
      } catch {
        /* already closed */
      }
    }
    this.list = [];
  }
}

/** Resolves when a pusher-js client is connected. */
export function connected(p, ms = 5000) {
  return waitFor(() => p.connection.state === 'connected', ms, {
    message: `pusher-js to connect (state ${p.connection.state})`,
  });
}

/** Resolves with the data of the first `event` on a pusher-js channel (or client). */
export function once(emitter, event, ms = 5000) {
  return withTimeout(
    new Promise((resolve) => {
      const handler = (data, metadata) => {
        emitter.unbind(event, handler);
        resolve({ data, metadata });
      };
      emitter.bind(event, handler);
    }),
    ms,
    `event ${event}`,
  ).then((r) => r.data);
}

/** Resolves with pusher:subscription_succeeded's data; rejects on subscription_error. */
export function subscribed(channel, ms = 5000) {
  if (channel.subscribed) return Promise.resolve(undefined);
  return withTimeout(
    new Promise((resolve, reject) => {
      channel.bind('pusher:subscription_succeeded', resolve);
      channel.bind('pusher:subscription_error', (e) => reject(new Error(`subscription_error ${JSON.stringify(e)}`)));
    }),
    ms,
    `subscription to ${channel.name}`,
  );
}

/** Records every non-internal event a channel (or the user facade) emits. */
export class Recorder {
  constructor(emitter) {
    this.events = [];
    this.waiters = [];
    emitter.bind_global((event, data, metadata) => {
      if (event.startsWith('pusher:') || event.startsWith('pusher_internal:')) return;
      this.events.push({ event, data, metadata });
      for (const w of [...this.waiters]) w();
    });
  }

  /** Waits for (and returns) the first recorded event matching pred. */
  next(pred = () => true, ms = 5000) {
    return withTimeout(
      new Promise((resolve) => {
        const check = () => {
          const i = this.events.findIndex(pred);
          if (i < 0) return false;
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve(this.events.splice(i, 1)[0]);
          return true;
        };
        if (!check()) this.waiters.push(check);
      }),
      ms,
      'a recorded event',
    );
  }
}

/** The Pusher server SDK configured for the hub. */
export function backend(server, overrides = {}) {
  return new PusherServer({
    appId: APP.id,
    key: APP.key,
    secret: APP.secret,
    host: '127.0.0.1',
    port: String(server.wsPort),
    useTLS: false,
    timeout: 5000,
    encryptionMasterKeyBase64: MASTER_KEY,
    ...overrides,
  });
}

/** Realtime\broadcast() (or, with `user`, Realtime\broadcastToUser()) from PHP. */
export async function phpBroadcast(server, { channel, user, message, event }) {
  const form = new URLSearchParams();
  if (user !== undefined) form.set('user', user);
  else form.set('channel', channel);
  form.set('message', JSON.stringify(message));
  if (event) form.set('event', event);
  const body = form.toString();
  const res = await server.http('/pusher/broadcast.php', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) },
    body,
  });
  if (res.status !== 200 || !res.json?.ok) throw new Error(`broadcast.php answered ${res.status}: ${res.body}`);
}

/** A native-protocol connection token, as Realtime\token() makes it. */
export function nativeToken(uid, { info, channels, ttl = 600 } = {}) {
  const payload = { uid, exp: Math.floor(Date.now() / 1000) + ttl };
  if (info !== undefined) payload.info = info;
  if (channels) payload.channels = channels;
  const first = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const mac = crypto.createHmac('sha256', NATIVE_SECRET).update(first).digest('base64url');
  return `${first}.${mac}`;
}

/** Signs an HTTP API request as the SDKs do; returns the path with its query. */
export function signedPath(method, path, { params = {}, body, timestamp, secret = APP.secret, key = APP.key } = {}) {
  const all = {
    auth_key: key,
    auth_timestamp: String(timestamp ?? Math.floor(Date.now() / 1000)),
    auth_version: '1.0',
    ...params,
  };
  if (body !== undefined) all.body_md5 = crypto.createHash('md5').update(body).digest('hex');
  const query = Object.keys(all)
    .sort()
    .map((k) => `${k}=${all[k]}`)
    .join('&');
  const signature = crypto.createHmac('sha256', secret).update(`${method}\n${path}\n${query}`).digest('hex');
  const encoded = Object.keys(all)
    .sort()
    .map((k) => `${k}=${encodeURIComponent(all[k])}`)
    .join('&');
  return `${path}?${encoded}&auth_signature=${signature}`;
}

/** A local HTTP server that records webhook requests (headers and raw body). */
export async function webhookReceiver() {
  const port = await freePort();
  const requests = [];
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      requests.push({ headers: req.headers, rawBody: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise((resolve) => srv.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    /** Every event of every webhook received so far. */
    events() {
      return requests.flatMap((r) => {
        try {
          return JSON.parse(r.rawBody).events.map((e) => ({ ...e, request: r }));
        } catch {
          return [];
        }
      });
    },
    close() {
      return new Promise((resolve) => srv.close(() => resolve()));
    },
  };
}
