import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/**
 * The CSP nonce of one response: 128 random bits, base64. Kept on the raw response because
 * helmet builds the header from (req, res) and the views read it from reply.raw.
 */
const NONCE = Symbol('cspNonce');

type WithNonce = ServerResponse & { [NONCE]?: string };

export function newCspNonce(res: ServerResponse): string {
  const nonce = randomBytes(16).toString('base64');
  (res as WithNonce)[NONCE] = nonce;
  return nonce;
}

/** This response's nonce ('' before the onRequest hook ran, which then matches no script). */
export function cspNonceOf(res: ServerResponse): string {
  return (res as WithNonce)[NONCE] ?? '';
}
