// Imported, not read from disk at run time: the single binary has no package.json beside it.
import pkg from '../package.json' with { type: 'json' };

export const APP_NAME = 'zhicheng';
export const APP_VERSION: string = pkg.version;
