// Issue #19 (README): a fresh clone's reader gets no link outside the repository, finds where
// the server listens and keeps its data next to the quick start, and the Node versions the
// README states are the ones `engines` allows and `npm ci` installs without an engine warning.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// semver is npm's own range reader (in node_modules through autocannon and prebuild-install).
const semver = createRequire(import.meta.url)('semver') as {
  satisfies(v: string, range: string): boolean;
  validRange(range: string): string | null;
};

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');
const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { engines?: { node?: string } | string[] }> };
const docs = execFileSync('git', ['ls-files', '*.md'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
const readme = read('README.md');

t.test('no link or path to files outside the repository', async (t) => {
  t.ok(docs.includes('README.md'));
  for (const f of docs) {
    const text = read(f);
    for (const m of text.matchAll(/\]\(([^)\s]+)[^)]*\)/g)) {
      const target = m[1]!;
      if (/^(https?:|mailto:|#)/.test(target)) continue;
      const abs = path.resolve(path.dirname(path.join(ROOT, f)), decodeURIComponent(target.split('#')[0]!));
      t.ok(abs === ROOT || abs.startsWith(ROOT + path.sep), `${f}: ${target} stays inside the repository`);
      t.ok(fs.existsSync(abs), `${f}: ${target} exists`);
    }
    // A sibling checkout (../shared) is not part of a fresh clone.
    t.notMatch(text, /(^|[\s(`"'])\.\.\/[A-Za-z]/m, `${f}: no ../ path`);
  }
});

t.test('port, host and data directory next to the quick start', async (t) => {
  const quick = /## Quick start\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
  t.ok(quick.length > 0, 'a Quick start section');
  for (const [what, re] of [['port', /`PORT` \(default `3000`\)/], ['host', /`HOST` \(default `0\.0\.0\.0`/], ['data directory', /`DATA_DIR` \(default `\.\/data`/]] as const) {
    t.match(quick, re, `the ${what} and its default`);
  }
});

t.test('the Node versions stated match engines, and every locked package accepts them', async (t) => {
  const range = pkg.engines.node;
  t.ok(semver.validRange(range), `engines.node is a range (${range})`);
  t.match(readme, `\`engines\` in \`package.json\`: \`${range}\``, 'the README quotes engines');
  const lockRoot = lock.packages['']!.engines as { node?: string } | undefined;
  t.equal(lockRoot?.node, range, 'package-lock.json has the same engines');

  // The first release of each minor line the range allows, majors 20–26: what a user may have.
  const versions: string[] = [];
  for (let major = 20; major <= 26; major++) {
    for (let minor = 0; minor <= 40; minor++) {
      const v = `${major}.${minor}.0`;
      if (semver.satisfies(v, range)) versions.push(v);
    }
  }
  t.ok(versions.includes('20.19.0') && versions.includes('24.0.0'), `20.19 and 24 allowed (${versions.length} minor lines)`);
  const stated = /Needs Node\.js ([\d.]+)\+ or ([\d.]+)\+/.exec(readme)?.slice(1) ?? [];
  t.equal(stated.length, 2, 'the quick start states the versions');
  for (const v of stated) {
    t.ok(semver.satisfies(`${v}.0`, range), `the README's ${v}+ is within engines`);
  }
  // npm ci warns (EBADENGINE) for any installed package whose engines.node the running Node misses.
  const warns: string[] = [];
  for (const [name, p] of Object.entries(lock.packages)) {
    const node = !name || Array.isArray(p.engines) ? undefined : p.engines?.node;
    if (!node) continue;
    for (const v of versions) if (!semver.satisfies(v, node)) warns.push(`${name} (${node}) on ${v}`);
  }
  t.same(warns.slice(0, 10), [], `no engine warning on any allowed version (${warns.length})`);
});
