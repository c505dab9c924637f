/**
 * The PDF pool against a real Chromium (skipped without one, failed with E2E_REQUIRED=1):
 * request interception, the queue, timeouts, recycling, crash recovery, and the packaged
 * font's GBK coverage as Chromium sees it.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createPdfPool, PdfQueueFullError, PdfTimeoutError, PdfPoolClosedError, type PdfPoolOptions } from '../../../src/print/pdf.js';
import { loadPrintFonts, PRINT_ORIGIN } from '../../../src/print/fonts.js';
import { findBrowser } from '../../../src/print/browser.js';

/** Every code point of GBK: each lead/trail byte pair decoded (as scripts/build-fonts.mjs does). */
function gbkCodePoints(): Set<number> {
  const dec = new TextDecoder('gbk');
  const out = new Set<number>();
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail === 0x7f) continue;
      const s = dec.decode(Uint8Array.of(lead, trail));
      if (s.length === 1 && s !== '\ufffd') out.add(s.codePointAt(0)!);
    }
  }
  return out;
}

const BROWSER = findBrowser(process.env.CHROMIUM_PATH || undefined);
let POPPLER = true;
try {
  execFileSync('pdffonts', ['-v'], { stdio: 'ignore' });
} catch {
  POPPLER = false;
}

if (!BROWSER || !POPPLER) {
  const why = !BROWSER ? 'Chromium not found: install it (apt-get install chromium)' : 'pdffonts not found: apt-get install poppler-utils';
  if (process.env.E2E_REQUIRED === '1') t.fail(`${why} (E2E_REQUIRED=1, so this is a failure)`);
  else t.plan(0, why);
} else {
  const executablePath = BROWSER;
  const fonts = loadPrintFonts();
  const shared = { [fonts.mainUrl]: { contentType: 'font/woff2', body: fonts.main, cache: true } };
  const pool = (o: Partial<PdfPoolOptions> = {}) => createPdfPool({ executablePath, concurrency: 1, queueMax: 4, timeoutMs: 60_000, resources: shared, ...o });
  const page = (body: string, head = '') =>
    `<!doctype html><html><head><meta charset="utf-8"><style>@font-face{font-family:P;src:url("${fonts.mainUrl}")}body{font-family:P}</style>${head}</head><body>${body}</body></html>`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-pdf-unit-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const save = (name: string, pdf: Buffer) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, pdf);
    return f;
  };
  const fontsOf = (f: string) => execFileSync('pdffonts', [f]).toString().split('\n').slice(2).filter(Boolean);
  const textOf = (f: string) => execFileSync('pdftotext', ['-raw', f, '-']).toString();

  t.test('only the listed resources load; every other request is aborted', async (t) => {
    const hits: string[] = [];
    const server = http.createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.end(req.url?.endsWith('.css') ? 'body{color:red}' : 'x');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const p = pool();
    t.teardown(() => p.close());
    const photo = `${PRINT_ORIGIN}/photo/abc`;
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c6300010000050001' + '0d0a2db40000000049454e44ae426082', 'hex');
    const html = page(
      `<p>正文</p><img src="${photo}"><img src="${base}/img.png"><img src="file:///etc/hostname"><iframe src="${base}/frame"></iframe>
       <object data="${base}/obj"></object><embed src="${base}/embed"><video src="${base}/v.mp4" poster="${base}/poster.png"></video>
       <div style="background:url(${base}/bg.png);width:10px;height:10px"></div><a href="${base}/link">link</a>
       <form action="${base}/form"><input type="image" src="${base}/input.png"></form><script src="${base}/s.js"></script><script>fetch('${base}/fetch')</script>`,
      `<link rel="stylesheet" href="${base}/a.css"><link rel="stylesheet" href="file:///etc/passwd"><link rel="prefetch" href="${base}/prefetch">
       <link rel="preload" as="image" href="${base}/preload.png"><link rel="icon" href="${base}/favicon.ico"><style>@import url(${base}/import.css);</style>
       <meta http-equiv="refresh" content="0;url=${base}/refresh"><base href="${base}/">`,
    );
    const pdf = await p.render(html, { resources: { [photo]: { contentType: 'image/png', body: png } } });
    t.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    await new Promise((r) => setTimeout(r, 300));
    t.same(hits, [], 'nothing reached the network');
    t.match(textOf(save('blocked.pdf', pdf)), '正文');
  });

  t.test('the packaged font covers GBK: nothing falls back to another font', async (t) => {
    const gbk = [...gbkCodePoints()].filter((cp) => !(cp >= 0xe000 && cp <= 0xf8ff) && cp !== 0x2252 && cp > 0x7f);
    const text = String.fromCodePoint(...gbk).replace(/(.{60})/gu, '$1\n');
    const p = pool();
    t.teardown(() => p.close());
    const file = save('gbk.pdf', await p.render(page(`<pre style="font-family:P;font-size:9pt">${text.replace(/[<&]/g, (c) => (c === '<' ? '&lt;' : '&amp;'))}</pre><p>ASCII ${'!"#$%&()*+,-./0123456789:;=?@ABCXYZ[]^_`abcxyz{|}~'.replace(/[<&]/g, '')}</p>`)));
    const list = fontsOf(file);
    t.comment(list.join('\n'));
    t.ok(list.length >= 1);
    t.ok(list.every((l) => /NotoSerifSC-Regular\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes/.test(l)), `${gbk.length} GBK characters: only the embedded Noto Serif SC subset`);
  });

  t.test('rare characters in names: the 通用规范汉字表 ones are in the font', async (t) => {
    const p = pool();
    t.teardown(() => p.close());
    const file = save('rare.pdf', await p.render(page('<p>王𬌗 赵𫖯 陈𬭚 李䶮</p>')));
    t.ok(fontsOf(file).every((l) => /NotoSerifSC-Regular/.test(l)), 'no fallback font needed');
    t.match(textOf(file), '王𬌗');
  });

  t.test('a full queue is refused at once; a job waits at most timeoutMs', async (t) => {
    const p = pool({ concurrency: 1, queueMax: 1, timeoutMs: 60_000 });
    t.teardown(() => p.close());
    await p.warm();
    const big = page('<p>长</p>'.repeat(3000));
    const a = p.render(big);
    const b = p.render(big);
    await t.rejects(p.render(big), PdfQueueFullError, 'third job: queue full');
    t.equal(new PdfQueueFullError().retryAfter, 5);
    await Promise.all([a, b]);

    const q = pool({ concurrency: 1, queueMax: 5, timeoutMs: 400 });
    t.teardown(() => q.close());
    await t.rejects(q.render(big), PdfTimeoutError, 'a job longer than timeoutMs (including the launch) times out');
    const s = q.stats();
    t.equal(s.queued, 0);
  });

  t.test('recycled after recycleAfter jobs; relaunched after a crash; closed means closed', async (t) => {
    const p = pool({ recycleAfter: 2 });
    const html = page('<p>第一页</p>');
    await p.render(html);
    await p.render(html);
    t.equal(p.stats().launches, 1);
    await p.render(html);
    t.equal(p.stats().launches, 2, 'third job: a fresh browser');
    const pid = p.stats().browserPid;
    t.ok(pid);
    process.kill(pid!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    const pdf = await p.render(html);
    t.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-', 'prints after the browser died');
    t.equal(p.stats().launches, 3);
    await p.close();
    await t.rejects(p.render(html), PdfPoolClosedError);
  });

  t.test('concurrency: jobs run in parallel up to the limit', async (t) => {
    const p = pool({ concurrency: 2, queueMax: 10 });
    t.teardown(() => p.close());
    await p.warm();
    const outs = await Promise.all(Array.from({ length: 5 }, (_, i) => p.render(page(`<p>第${i}份</p>`))));
    outs.forEach((pdf, i) => t.match(textOf(save(`c${i}.pdf`, pdf)), `第${i}份`, `job ${i} got its own document`));
  });
}
