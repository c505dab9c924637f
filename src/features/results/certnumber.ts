import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { DEFAULT_CERT_PATTERN, formatCertNumber, patternError } from '../../domain/evaluation.js';

export interface CertNumberer {
  /** The next number of the office's sequence for the year (call inside the same writeTx). */
  next(): { seq: number; number: string };
}

/**
 * Gap-free certificate numbers of one issuing office and year, in its pattern (orgs.cert_pattern,
 * else the default). Call it inside a writeTx (which serialises writers on both databases): the
 * sequence starts after the highest seq the office issued that year, whether to a committee's
 * declaration (certificates), to a recognition (recognitions) or through a certificate service
 * (cert_services: 外地调入确认, 遗失补办), so all share one sequence. The unique (office, year, seq)
 * indexes of the three tables are the backstop.
 */
export async function certNumberer(trx: Kysely<Database>, orgId: number, year: number): Promise<CertNumberer> {
  const org = await trx.selectFrom('orgs').select(['id', 'code', 'cert_pattern']).where('id', '=', orgId).executeTakeFirstOrThrow();
  const pattern = org.cert_pattern && !patternError(org.cert_pattern) ? org.cert_pattern : DEFAULT_CERT_PATTERN;
  const a = await trx.selectFrom('certificates').select((eb) => eb.fn.max<number>('seq').as('m')).where('committee_org_id', '=', orgId).where('year', '=', year).executeTakeFirst();
  const b = await trx.selectFrom('recognitions').select((eb) => eb.fn.max<number>('cert_seq').as('m')).where('decider_org_id', '=', orgId).where('cert_year', '=', year).executeTakeFirst();
  const c = await trx.selectFrom('cert_services').select((eb) => eb.fn.max<number>('cert_seq').as('m')).where('office_org_id', '=', orgId).where('cert_year', '=', year).executeTakeFirst();
  let seq = Math.max(Number(a?.m ?? 0), Number(b?.m ?? 0), Number(c?.m ?? 0));
  const code = org.code || String(org.id);
  return {
    next() {
      seq++;
      return { seq, number: formatCertNumber(pattern, { year, seq, org: code }) };
    },
  };
}
