import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../app-root.js';

let cached: ReadonlySet<string> | undefined;

/**
 * The common-password list (fixtures/common-passwords.txt, 10 000 entries), lower-cased,
 * read once on first use (about 80 KB).
 */
export function commonPasswords(): ReadonlySet<string> {
  cached ??= new Set(
    fs.readFileSync(path.join(ROOT, 'fixtures', 'common-passwords.txt'), 'utf8')
      .split('\n')
      .map((l) => l.trim().toLowerCase())
      .filter(Boolean),
  );
  return cached;
}
