import net from 'node:net';
import t, { type Test } from 'tap';
import { makeApp, type TestApp } from '../helpers/app.js';

/**
 * Slow clients against a real listening server (loopback only): the timeouts come from the
 * config (HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS) through the Fastify
 * options in src/app.ts. Every loop here is bounded and every socket is closed at the end.
 */

async function listening(t: Test, overrides: Parameters<typeof makeApp>[0]): Promise<{ app: TestApp; port: number }> {
  const app = await makeApp(overrides);
  t.teardown(() => app.close());
  await app.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.app.server.address() as net.AddressInfo).port;
  return { app, port };
}

interface Conn {
  socket: net.Socket;
  /** Everything the server sent. */
  received: () => string;
  /** Resolves with the ms since `since` when the server closes the socket (or after `max` ms with -1). */
  closed: (since: number, max: number) => Promise<number>;
}

function connect(port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    let data = '';
    let closedAt = 0;
    const waiters: (() => void)[] = [];
    const socket = net.connect({ port, host: '127.0.0.1' }, () => {
      resolve({
        socket,
        received: () => data,
        closed: (since, max) => new Promise((res) => {
          if (closedAt) return res(closedAt - since);
          const timer = setTimeout(() => res(-1), max);
          waiters.push(() => {
            clearTimeout(timer);
            res(closedAt - since);
          });
        }),
      });
    });
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      closedAt = Date.now();
      for (const w of waiters.splice(0)) w();
    });
    socket.once('error', reject);
  });
}

/** Writes `text` one byte every `everyMs`, stopping early when the socket is gone. */
async function trickle(c: Conn, text: string, everyMs: number): Promise<number> {
  let sent = 0;
  for (const ch of text) {
    if (c.socket.destroyed || !c.socket.writable) break;
    c.socket.write(ch);
    sent++;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return sent;
}

const LIMITS = { headersTimeoutMs: 1000, requestTimeoutMs: 2500, keepAliveTimeoutMs: 500 };

t.test('slowloris: a request line sent a byte at a time is cut after the headers timeout', async (t) => {
  const { port } = await listening(t, LIMITS);
  const c = await connect(port);
  const start = Date.now();
  // 60 bytes at one per 150 ms would take 9 s: far past the 1 s headers timeout.
  const slow = trickle(c, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: aaaaaaaaaaaaaaa\r\n\r\n', 150);
  const after = await c.closed(start, 6000);
  const sent = await slow;
  t.ok(after > 0, `the server closed the socket (after ${after} ms)`);
  t.ok(after >= 900, 'not before the headers timeout');
  t.ok(after < 3000, 'within a few seconds (the checking interval is short)');
  t.ok(sent < 30, `the client got ${sent} bytes out, not the whole request`);
  t.match(c.received(), /^(HTTP\/1\.1 408 |)/, 'at most a 408, never a response to the request');
  t.notMatch(c.received(), /"status":"ok"/);
});

t.test('a connection that sends nothing is closed too', async (t) => {
  const { port } = await listening(t, LIMITS);
  const c = await connect(port);
  const after = await c.closed(Date.now(), 6000);
  t.ok(after > 0 && after < 3000, `closed after ${after} ms`);
});

t.test('a slow body (headers fast, body trickled) is cut after the request timeout', async (t) => {
  const { port } = await listening(t, LIMITS);
  const c = await connect(port);
  const start = Date.now();
  c.socket.write('POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n');
  const slow = trickle(c, 'x'.repeat(200), 100);
  const after = await c.closed(start, 8000);
  await slow;
  t.ok(after > 0, `closed after ${after} ms`);
  t.ok(after >= 2000 && after < 5000, 'around the 2.5 s request timeout');
});

t.test('keep-alive: an idle connection is closed after keepAliveTimeout; a normal request is served', async (t) => {
  const { port } = await listening(t, LIMITS);
  const c = await connect(port);
  c.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  for (let i = 0; i < 50 && !c.received().includes('"status":"ok"'); i++) await new Promise((r) => setTimeout(r, 20));
  const answered = Date.now();
  t.match(c.received(), /^HTTP\/1\.1 200 /, 'served at once');
  t.match(c.received(), /keep-alive/i, 'kept alive');
  const after = await c.closed(answered, 5000);
  t.ok(after > 0, `idle socket closed after ${after} ms`);
  // Node arms the socket with keepAliveTimeout plus a fixed 1 s buffer
  // (HTTP_SERVER_KEEP_ALIVE_TIMEOUT_BUFFER) so a client told "timeout=0.5" closes first.
  t.ok(after >= 400 && after < 2500, 'the 500 ms keep-alive timeout (+ Node\'s 1 s buffer)');
});

t.test('the timeouts are configuration', async (t) => {
  const { app } = await listening(t, LIMITS);
  const s = app.app.server;
  t.equal(s.headersTimeout, 1000);
  t.equal(s.requestTimeout, 2500);
  t.equal(s.keepAliveTimeout, 500);
  t.equal(s.timeout, app.ctx.config.connectionTimeoutMs, 'socket inactivity timeout');
  t.equal(app.ctx.config.connectionTimeoutMs, 180_000, 'default: longer than a PDF');
  const { loadConfig } = await import('../../src/config.js');
  const d = loadConfig({ NODE_ENV: 'test' });
  t.same([d.headersTimeoutMs, d.requestTimeoutMs, d.keepAliveTimeoutMs], [10_000, 120_000, 5000], 'defaults');
  t.throws(() => loadConfig({ NODE_ENV: 'test', HEADERS_TIMEOUT_MS: '60000', REQUEST_TIMEOUT_MS: '30000' }), /HEADERS_TIMEOUT_MS .* must not exceed/);
  t.throws(() => loadConfig({ NODE_ENV: 'test', CONNECTION_TIMEOUT_MS: '30000' }), /must be longer than PDF_TIMEOUT_MS/);
});
