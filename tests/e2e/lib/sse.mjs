// A Server-Sent Events reader for the tests (Node has no EventSource): it
// opens GET {path}/sse on a port, parses the stream as the HTML standard
// says (fields, comments, ids, blank-line dispatch) and records every event.
import http from 'node:http';
import { waitFor } from './server.mjs';

export function openStream(port, reqPath, { headers = {}, timeout = 5000, host = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: reqPath, headers, agent: false }, (res) => {
      const s = {
        status: res.statusCode,
        headers: res.headers,
        events: [],       // { event, data, id } as dispatched (data parsed as JSON when it is)
        comments: 0,
        lastEventId: '',
        ended: false,
        raw: '',
        req,
        res,
        close() {
          req.destroy();
        },
        messages(channel) {
          return s.events.filter((e) => e.json?.type === 'message' && (!channel || e.json.channel === channel));
        },
        async next(pred = () => true, ms = 5000) {
          let found;
          await waitFor(() => (found = s.events.find((e) => !e.taken && pred(e))) !== undefined, ms, {
            message: `an event on ${reqPath} (got ${s.events.length}, ended ${s.ended})`,
          });
          found.taken = true;
          return found;
        },
      };
      let buf = '';
      let data = [];
      let event = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        s.raw += chunk.length < 65536 ? chunk : '';
        buf += chunk;
        let nl;
        while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + (buf.startsWith('\r\n', nl) ? 2 : 1));
          if (line === '') {
            if (data.length > 0) {
              const text = data.join('\n');
              let json;
              try { json = JSON.parse(text); } catch { json = undefined; }
              s.events.push({ event: event || 'message', data: text, json, id: s.lastEventId });
            }
            data = [];
            event = '';
            continue;
          }
          if (line.startsWith(':')) { s.comments++; continue; }
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'data') data.push(value);
          else if (field === 'event') event = value;
          else if (field === 'id' && !value.includes('\0')) s.lastEventId = value;
        }
      });
      res.on('end', () => { s.ended = true; });
      res.on('close', () => { s.ended = true; });
      res.on('error', () => { s.ended = true; });
      resolve(s);
    });
    req.setTimeout(timeout, () => req.destroy(new Error('timeout opening the stream')));
    req.on('error', reject);
  });
}
