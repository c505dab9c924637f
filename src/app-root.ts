import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project folder (views/, public/, fixtures/, fonts/ live here). The single binary sets
 * __ZHICHENG_ROOT__ to the folder it unpacked its files into before loading the app (src/binary.ts).
 */
export const ROOT =
  (globalThis as { __ZHICHENG_ROOT__?: string }).__ZHICHENG_ROOT__ ??
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
