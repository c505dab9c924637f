import t from 'tap';
import { browserLabel, parseList, permissionAllowed, platformRolesOf, separationError, withPlatformRole, SEPARATION_ERROR } from '../../../src/domain/roles.js';

t.test('separationError: at most one of admin / security / audit', async (t) => {
  const cases: [string[], string | null][] = [
    [[], null],
    [['admin'], null],
    [['security'], null],
    [['audit'], null],
    [['admin', 'unit_admin'], null],
    [['unit_admin'], null],
    [['admin', 'admin'], null],
    [['admin', 'audit'], SEPARATION_ERROR],
    [['security', 'admin'], SEPARATION_ERROR],
    [['audit', 'unit_admin', 'security'], SEPARATION_ERROR],
    [['admin', 'security', 'audit'], SEPARATION_ERROR],
    [['auditor', 'admins', 'admin'], null],
  ];
  for (const [roles, want] of cases) t.equal(separationError(roles), want, roles.join(','));
});

t.test('withPlatformRole replaces the platform role and keeps the others', async (t) => {
  const cases: [string[], 'admin' | 'security' | 'audit' | null, string[]][] = [
    [[], 'admin', ['admin']],
    [['admin'], 'audit', ['audit']],
    [['unit_admin', 'security'], 'admin', ['unit_admin', 'admin']],
    [['audit'], null, []],
    [['unit_admin'], null, ['unit_admin']],
  ];
  for (const [roles, role, want] of cases) t.same(withPlatformRole(roles, role), want, `${roles.join(',')} → ${role}`);
  t.same(platformRolesOf(['x', 'audit', 'admin']), ['audit', 'admin']);
});

t.test('parseList and permissionAllowed', async (t) => {
  t.same(parseList(' a, b,,a ,c '), ['a', 'b', 'c']);
  t.same(parseList(''), []);
  t.same(parseList(null), []);
  t.equal(permissionAllowed('reveal_pii', []), true);
  t.equal(permissionAllowed('reveal_pii', ['admin']), true);
  t.equal(permissionAllowed('reveal_pii', ['security']), false);
  t.equal(permissionAllowed('reveal_pii', ['audit']), false);
  t.equal(permissionAllowed('anything_else', []), false);
});

t.test('browserLabel', async (t) => {
  const cases: [string | null, string][] = [
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'Chrome 126 / Windows'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87', 'Edge 126 / Windows'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 'Safari 17 / iOS'],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0', 'Firefox 127 / Linux'],
    ['Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.49', '微信 8 / Android'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15', 'Safari 17 / macOS'],
    ['lightMyRequest', 'lightMyRequest'],
    ['', '未知'],
    [null, '未知'],
  ];
  for (const [ua, want] of cases) t.equal(browserLabel(ua), want, String(ua));
});
