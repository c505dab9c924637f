import type { Migration } from 'kysely';
import * as m0001 from './0001_foundation.js';
import * as m0002 from './0002_archive.js';
import * as m0003 from './0003_declarations.js';
import * as m0004 from './0004_review.js';
import * as m0005 from './0005_print.js';
import * as m0006 from './0006_results.js';
import * as m0007 from './0007_audit.js';
import * as m0008 from './0008_roles.js';
import * as m0009 from './0009_auth_hardening.js';
import * as m0010 from './0010_scale_out.js';
import * as m0011 from './0011_sessions_fieldtest.js';
import * as m0012 from './0012_security_fieldtest.js';
import * as m0013 from './0013_print_fieldtest.js';
import * as m0014 from './0014_applicant_fieldtest.js';
import * as m0015 from './0015_integrity.js';
import * as m0016 from './0016_windows_supplements.js';
import * as m0017 from './0017_recognition.js';
import * as m0018 from './0018_org_tree.js';
import * as m0019 from './0019_meeting.js';
import * as m0020 from './0020_exchange.js';
import * as m0021 from './0021_list_indexes.js';
import * as m0022 from './0022_pdf_cache.js';
import * as m0023 from './0023_cert_services.js';
import * as m0024 from './0024_unit_checkers.js';
import * as m0025 from './0025_posts.js';
import * as m0026 from './0026_series_sections.js';
import * as m0029 from './0029_transfer.js';
import * as m0030 from './0030_supplement_cancel.js';
import * as m0031 from './0031_stats_indexes.js';

/**
 * Ordered, forward-only. Listed statically (not read from the folder) so that the single
 * binary can carry them. Never edit a migration that has shipped: add a new one.
 */
export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_archive': m0002,
  '0003_declarations': m0003,
  '0004_review': m0004,
  '0005_print': m0005,
  '0006_results': m0006,
  '0007_audit': m0007,
  '0008_roles': m0008,
  '0009_auth_hardening': m0009,
  '0010_scale_out': m0010,
  '0011_sessions_fieldtest': m0011,
  '0012_security_fieldtest': m0012,
  '0013_print_fieldtest': m0013,
  '0014_applicant_fieldtest': m0014,
  '0015_integrity': m0015,
  '0016_windows_supplements': m0016,
  '0017_recognition': m0017,
  '0018_org_tree': m0018,
  '0019_meeting': m0019,
  '0020_exchange': m0020,
  '0021_list_indexes': m0021,
  '0022_pdf_cache': m0022,
  '0023_cert_services': m0023,
  '0024_unit_checkers': m0024,
  '0025_posts': m0025,
  '0026_series_sections': m0026,
  '0029_transfer': m0029,
  '0030_supplement_cancel': m0030,
  '0031_stats_indexes': m0031,
};
