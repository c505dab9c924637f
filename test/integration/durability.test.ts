// The real server as a child process: a kill -9 in the middle of writes loses no acknowledged
// submission; SIGTERM finishes the request in flight, refuses new connections and exits 0; a
// second signal exits 1 at once.
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { makeApp, createApplicant, idNumber } from '../helpers/app.js';
import { validForm } from '../helpers/sections.js';
import { sectionByKey } from '../../src/domain/sections.js';
import { startServer, HttpAgent } from '../helpers/child.js';

function tempDir(t: { teardown(fn: () => unknown): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-dur-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('kill -9 while an applicant saves rows: every acknowledged row is in the database', async (t) => {
  const dir = tempDir(t);
  // The applicant and a valid 知识产权 row, prepared in the data folder the child will serve.
  const setup = await makeApp({ dataDir: dir, dbFile: path.join(dir, 'zhicheng.db'), uploadDir: path.join(dir, 'uploads') });
  const who = await createApplicant(setup, { name: '张伟', id: idNumber('19850612', '231'), phone: '13800138000' });
  const form = await validForm(setup, sectionByKey('ip')!, 1);
  await setup.close();

  const server = await startServer(t, { DATA_DIR: dir });
  const agent = new HttpAgent(server.base);
  await agent.get('/login');
  const login = await agent.post('/login', { type: 'applicant', account: who.id, password: who.password });
  t.equal(login.status, 303, 'logged in over HTTP');
  await agent.get('/me/sections/ip/new');
  const csrf = agent.csrf();

  // Four clients save rows as fast as the server acknowledges them; each row carries a marker.
  const acked = new Map<number, string>();
  let next = 0;
  let killed = false;
  let refused = 0;
  const worker = async () => {
    while (!killed) {
      const marker = `专利-${++next}`;
      try {
        const res = await agent.post('/me/sections/ip', { ...form, name: marker }, csrf);
        const m = /^\/me\/sections\/ip\/(\d+)\/edit/.exec(res.location ?? '');
        if (res.status === 303 && m) acked.set(Number(m[1]), marker);
        else refused++;
      } catch {
        return; // the connection died with the server: not acknowledged
      }
    }
  };
  const workers = [worker(), worker(), worker(), worker()];
  while (acked.size < 40) {
    await new Promise((r) => setTimeout(r, 5));
    if (server.proc.exitCode !== null) break;
  }
  // Killed mid-stream: other saves are in flight at this moment.
  server.proc.kill('SIGKILL');
  killed = true;
  const end = await server.exited;
  await Promise.all(workers);
  t.equal(end.signal, 'SIGKILL');
  t.equal(refused, 0, 'no save was refused before the kill');
  t.ok(acked.size >= 40, `${acked.size} saves acknowledged before the kill`);

  const raw = new SqliteDatabase(path.join(dir, 'zhicheng.db'));
  t.teardown(() => raw.close());
  t.same(raw.pragma('integrity_check'), [{ integrity_check: 'ok' }], 'integrity_check ok after the kill');
  const rows = new Map((raw.prepare("SELECT id, data FROM section_rows WHERE section = 'ip'").all() as { id: number; data: string }[]).map((r) => [r.id, JSON.parse(r.data).name as string]));
  const lost = [...acked].filter(([id, marker]) => rows.get(id) !== marker);
  t.same(lost, [], 'every acknowledged id is present with its content');
  t.ok(rows.size >= acked.size);
});

/** A raw HTTP request whose body is only partly sent: in flight until `finish` is called. */
function slowPost(port: number): Promise<{ finish: () => void; response: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const body = 'type=applicant&account=13800138000&password=Zhang%232026wei';
    const sock = net.connect(port, '127.0.0.1', () => {
      sock.write(
        `POST /login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`,
      );
      sock.write(body.slice(0, 10));
      let text = '';
      sock.setEncoding('utf8').on('data', (s: string) => (text += s));
      const response = new Promise<string>((res) => sock.on('close', () => res(text)));
      resolve({ finish: () => sock.end(body.slice(10)), response });
    });
    sock.on('error', reject);
  });
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

t.test('no browser: said at start; SIGTERM: the request in flight completes, new connections are refused, exit 0', async (t) => {
  const dir = tempDir(t);
  // No browser: the server says so at start and serves everything else.
  // Production without SECURE_COOKIES: warned at start too.
  const server = await startServer(t, { DATA_DIR: dir, LOG_LEVEL: 'info', CHROMIUM_PATH: path.join(dir, 'no-browser'), NODE_ENV: 'production' });
  t.match(server.stderr(), '未找到 Chromium/Chrome/Edge：PDF 打印不可用（设置 CHROMIUM_PATH）');
  t.match(server.stderr(), '未设置 SECURE_COOKIES=true');
  const slow = await slowPost(server.port);
  // Let the server read the headers: from then on the request is in flight.
  await new Promise((r) => setTimeout(r, 300));
  server.proc.kill('SIGTERM');
  let refused = false;
  for (let i = 0; i < 100 && !refused; i++) {
    refused = !(await connects(server.port));
    if (!refused) await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(refused, 'a new connection is refused while the first request is still open');
  t.equal(server.proc.exitCode, null, 'the process waits for the request in flight');
  slow.finish();
  const text = await slow.response;
  // Processed, not cut off and not a 503: without a session the CSRF check answers 403.
  t.match(text, /^HTTP\/1\.1 403 /, 'the in-flight request got its full answer');
  t.match(text, '请求已失效');
  const end = await server.exited;
  t.equal(end.code, 0, 'exit 0 after a graceful shutdown');
  t.match(server.stdout(), 'shutting down');
});

t.test('a second signal during shutdown exits 1 at once', async (t) => {
  const dir = tempDir(t);
  const server = await startServer(t, { DATA_DIR: dir, LOG_LEVEL: 'info' });
  const slow = await slowPost(server.port);
  t.teardown(() => slow.finish());
  await new Promise((r) => setTimeout(r, 300));
  server.proc.kill('SIGTERM');
  // Wait until the first signal was handled (logged), then send the second.
  for (let i = 0; i < 200 && !server.stdout().includes('shutting down'); i++) await new Promise((r) => setTimeout(r, 25));
  t.equal(server.proc.exitCode, null, 'still finishing the request in flight');
  const sent = Date.now();
  server.proc.kill('SIGINT');
  const end = await server.exited;
  t.equal(end.code, 1);
  t.ok(Date.now() - sent < 5000, 'without waiting for the request');
});
