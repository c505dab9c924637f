#!/usr/bin/env node
/**
 * `npm start`: runs the compiled dist/cli.mjs (made by `npm ci` through scripts/compile.mjs)
 * when it is newer than every file under src/ and migrations/; otherwise the sources through tsx
 * (a checkout edited since the last install, or a production install without esbuild), saying so.
 * Arguments are the CLI's: `npm start -- serve --workers 2`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiled = path.join(ROOT, 'dist', 'cli.mjs');

function newest(dir) {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

function fresh() {
  try {
    const built = fs.statSync(compiled).mtimeMs;
    return built >= newest(path.join(ROOT, 'src')) && built >= newest(path.join(ROOT, 'migrations'));
  } catch {
    return false;
  }
}

let cli;
if (process.env.ZHICHENG_FROM_SOURCE !== '1' && fresh()) {
  cli = await import(pathToFileURL(compiled).href);
} else {
  if (process.env.ZHICHENG_FROM_SOURCE !== '1') console.error('注意：dist/cli.mjs 不存在或早于源码，从源码启动（较慢）。运行 npm run compile 可加快启动。');
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(pathToFileURL(path.join(ROOT, 'src', 'cli.ts')).href);
}
const code = await cli.main(process.argv.slice(2));
process.exitCode = code;
