import t from 'tap';
import path from 'node:path';
import { findBrowser, browserCandidates } from '../../../src/print/browser.js';

t.test('the configured path wins, and only it is considered', async (t) => {
  const all = () => true;
  t.equal(findBrowser('/opt/x/chrome', { isExecutable: all }), '/opt/x/chrome');
  t.equal(findBrowser('/opt/x/chrome', { isExecutable: (p) => p !== '/opt/x/chrome' }), null, 'set but wrong: no browser (no surprise fallback)');
});

t.test('auto-detection order: chromium, chromium-browser, google-chrome(-stable), microsoft-edge', async (t) => {
  const only = (...ok: string[]) => ({ isExecutable: (p: string) => ok.includes(p), envPath: '' });
  t.equal(findBrowser(undefined, only('/usr/bin/chromium', '/usr/bin/google-chrome')), '/usr/bin/chromium');
  t.equal(findBrowser(undefined, only('/usr/bin/chromium-browser', '/usr/bin/google-chrome')), '/usr/bin/chromium-browser');
  t.equal(findBrowser(undefined, only('/usr/bin/google-chrome-stable', '/usr/bin/microsoft-edge')), '/usr/bin/google-chrome-stable');
  t.equal(findBrowser(undefined, only('/usr/bin/microsoft-edge')), '/usr/bin/microsoft-edge');
  t.equal(findBrowser(undefined, only('/opt/google/chrome/chrome')), '/opt/google/chrome/chrome');
  t.equal(findBrowser(undefined, only()), null, 'none installed');
});

t.test('names on PATH are found too', async (t) => {
  const dir = path.join(path.sep, 'home', 'u', 'bin');
  const c = browserCandidates(dir);
  t.ok(c.includes(path.join(dir, 'microsoft-edge-stable')));
  t.equal(findBrowser(undefined, { envPath: dir, isExecutable: (p) => p === path.join(dir, 'chromium') }), path.join(dir, 'chromium'));
});
