/**
 * Entry of the single binary (scripts/build-binary.mjs bundles this file; never run under tsx).
 *
 * Kept tiny on purpose: esbuild hoists static imports, and the app reads ROOT (src/app-root.ts)
 * and loads its native addons while its modules are being evaluated. So the embedded files are
 * unpacked first, and only then is the app imported (dynamic import = evaluated on demand).
 */
import { prepareSea, SeaError } from './runtime/sea.js';

let root: string;
try {
  root = prepareSea().root;
} catch (err) {
  console.error(err instanceof SeaError ? err.message : err);
  process.exit(1);
}
(globalThis as { __ZHICHENG_ROOT__?: string }).__ZHICHENG_ROOT__ = root;

// A cluster worker of the binary is started as `<binary> <binary> serve …` (cluster passes the
// entry path, which for a single executable is the binary itself): drop that first argument.
const args = process.argv.slice(2);
if (process.env.ZHICHENG_WORKER === '1' && args[0] === process.execPath) args.shift();

import('./cli.js')
  .then(({ main }) => main(args))
  .then(
    (code) => {
      // A one-shot command is done; `serve` resolves only once the server has closed.
      process.exitCode = code;
    },
    (err) => {
      console.error(err instanceof SeaError ? err.message : err);
      process.exit(1);
    },
  );
