import t from 'tap';
import { anyDutyRefusal, dutiesOf, pageDuties } from '../../../src/domain/duties.js';
import { menuFor } from '../../../src/lib/menu.js';

t.test('the duties of a staff path', async (t) => {
  const cases: [string, string[] | null][] = [
    ['/org', null],
    ['/org/messages', null],
    ['/org/unit', null],
    ['/org/tree', null],
    ['/org/people', ['people']],
    ['/org/people/3/reset-password', ['people']],
    ['/org/posts', ['people']],
    ['/org/posts/appointments/new', ['people']],
    ['/org/posts/stats', ['stats']],
    ['/org/stats', ['stats']],
    ['/org/stats/export.xlsx', ['stats']],
    ['/org/reviews/export.xlsx', ['stats']],
    ['/org/recognitions/export.xlsx', ['stats']],
    ['/org/recognitions/5', ['review']],
    ['/org/plans', ['plans']],
    ['/org/plans/7', ['plans']],
    ['/org/plans/7/groups', ['evaluation']],
    ['/org/notices/new', ['plans']],
    ['/org/reviews', ['review', 'return', 'publicity', 'evaluation', 'certificate']],
    ['/org/reviews/9/pdf', ['review', 'return', 'publicity', 'evaluation', 'certificate']],
    ['/org/unit-stage/9/verify', ['review']],
    ['/org/publicity/new', ['publicity']],
    ['/org/result-publicity', ['publicity']],
    ['/org/evaluations/2/votes', ['evaluation']],
    ['/org/experts', ['evaluation']],
    ['/org/certificates/issue', ['certificate']],
    ['/org/peoples', null],
  ];
  for (const [path, want] of cases) t.same(pageDuties(path), want, path);
  t.equal(anyDutyRefusal(['plans']), '您没有“计划通知管理”权限，不能进行此操作。请联系本机构管理员在“本级人员授权”中分配。');
  t.match(anyDutyRefusal(['review', 'return']), '您没有“资格审查经办”或“退回审查”权限');
});

t.test('new duties by kind; the menu hides what the duties refuse', async (t) => {
  t.ok(dutiesOf(null, 'unit').includes('people'));
  t.notOk(dutiesOf(null, 'hrb').includes('people'));
  t.ok(dutiesOf(null, 'committee').includes('plans'));
  t.same(dutiesOf('people', 'committee'), [], 'a duty foreign to the kind is dropped');
  const hrefs = (duties?: string[]) => menuFor({ kind: 'staff', roles: [], orgKind: 'unit', duties }).flatMap((i) => [i.href, ...(i.children ?? []).map((c) => c.href)]);
  t.ok(hrefs().includes('/org/reviews'), 'no duties given: not filtered');
  const people = hrefs(['people']);
  t.ok(people.includes('/org/posts') && people.includes('/org/people') && people.includes('/org/unit'));
  for (const h of ['/org/reviews', '/org/publicity', '/org/recommend', '/org/stats', '/org/posts/stats', '/org/recognitions']) t.notOk(people.includes(h), `hides ${h}`);
  const admin = menuFor({ kind: 'staff', roles: ['admin'], orgKind: 'platform', duties: ['stats'] });
  const platform = admin.find((i) => i.href === '/admin')!;
  t.notOk(platform.children!.some((c) => c.href === '/org/plans' || c.href === '/org/certificates'), 'children filtered too');
  t.ok(platform.children!.some((c) => c.href === '/admin/orgs'));
});
