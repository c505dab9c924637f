/**
 * bench/profile — reads a V8 .cpuprofile (node --cpu-prof) and says where the CPU went: self
 * time per function and per package (node_modules/<pkg>, src/<dir>, node internals, GC), as a
 * share of the busy (non-idle) time. Used by bench/run.ts when a target is missed.
 *
 * Usage: node --import tsx bench/profile.ts FILE.cpuprofile
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

export interface ProfileSummary { busyMs: number; idleMs: number; functions: { name: string; pct: number }[]; packages: { name: string; pct: number }[] }

function packageOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const src = /\/(src|views|bench|migrations)\/([^/]+)/.exec(url);
  if (src) return src[1] === 'src' ? `src/${src[2]!.replace(/\.ts$/, '')}` : src[1]!;
  return path.basename(url);
}

/** `windows` (ms since the process started) keep only those samples, e.g. the load, not the start-up. */
export function summarizeProfile(file: string, top = 12, windows?: { from: number; to: number }[]): ProfileSummary {
  const p: CpuProfile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let at = 0; // µs since the profile started
  for (let i = 0; i < p.samples.length; i++) {
    at += p.timeDeltas[i] ?? 0;
    if (windows && !windows.some((w) => at / 1000 >= w.from && at / 1000 <= w.to)) continue;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const fns = new Map<string, number>();
  const pkgs = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const short = url ? url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|src)\//, '$1/') : '';
    const key = `${functionName || '(anonymous)'}${short ? ` ${short}:${lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const pkg = packageOf(url, functionName);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
  }
  const rank = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, pct: (100 * us) / Math.max(1, busy) }));
  return { busyMs: busy / 1000, idleMs: idle / 1000, functions: rank(fns), packages: rank(pkgs) };
}

export function formatProfile(s: ProfileSummary): string {
  return [
    `CPU profile of the server: ${(s.busyMs / 1000).toFixed(1)} s busy, ${(s.idleMs / 1000).toFixed(1)} s idle (main thread)`,
    'self time by package:',
    ...s.packages.map((x) => `  ${x.pct.toFixed(1).padStart(5)}%  ${x.name}`),
    'self time by function:',
    ...s.functions.map((x) => `  ${x.pct.toFixed(1).padStart(5)}%  ${x.name}`),
  ].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node --import tsx bench/profile.ts FILE.cpuprofile');
    process.exit(2);
  }
  console.log(formatProfile(summarizeProfile(file)));
}
