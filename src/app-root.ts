import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project folder (views/, public/, fixtures/ live here). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
