import type { AppContext } from '../src/context.js';

/** Fills the demo applicants' archives. The archive (profile + 13 sections) arrives with the archive issue. */
export async function seedDemoArchive(_ctx: AppContext, _userIds: number[]): Promise<void> {}
