// 三权分立 (GB/T 22239 level 3): three platform administrator roles, never two on one account.
// users.roles and users.permissions are comma lists; these are the pure rules over them.

export const PLATFORM_ROLES = [
  { code: 'admin', name: '系统管理员', duty: '机构、用户基本信息、数据字典、节假日、评审计划' },
  { code: 'security', name: '安全管理员', duty: '角色与权限、安全策略、账号解锁、会话管理' },
  { code: 'audit', name: '审计管理员', duty: '查阅、导出、校验审计日志' },
] as const;
export type PlatformRole = (typeof PLATFORM_ROLES)[number]['code'];
const PLATFORM_CODES: readonly string[] = PLATFORM_ROLES.map((r) => r.code);

export const PERMISSIONS = [{ code: 'reveal_pii', name: '查看完整身份证号、手机号' }] as const;
export type Permission = (typeof PERMISSIONS)[number]['code'];

export const SEPARATION_ERROR = '三权分立：同一账号不能同时担任系统管理员、安全管理员、审计管理员中的两个角色';

/** 'a,b,,c' → ['a','b','c'] (trimmed, empty entries dropped, order kept, no duplicates). */
export function parseList(value: string | null | undefined): string[] {
  const out: string[] = [];
  for (const x of (value ?? '').split(',')) {
    const v = x.trim();
    if (v && !out.includes(v)) out.push(v);
  }
  return out;
}

export const isPlatformRole = (code: string): code is PlatformRole => PLATFORM_CODES.includes(code);

/** The platform roles in a roles list. */
export const platformRolesOf = (roles: readonly string[]): PlatformRole[] => roles.filter(isPlatformRole);

/** The Chinese refusal when a roles list holds two platform roles, else null. */
export function separationError(roles: readonly string[]): string | null {
  return new Set(platformRolesOf(roles)).size > 1 ? SEPARATION_ERROR : null;
}

/** Replaces the platform role of a roles list (other roles, e.g. a unit's, are kept). */
export function withPlatformRole(roles: readonly string[], role: PlatformRole | null): string[] {
  const rest = roles.filter((r) => !isPlatformRole(r));
  return role ? [...rest, role] : rest;
}

/**
 * Permissions a role may hold: the security and audit admins see no personal data at all, so
 * they may not be given 'reveal_pii'; everyone else on staff may.
 */
export function permissionAllowed(permission: string, roles: readonly string[]): boolean {
  if (permission === 'reveal_pii') return !roles.includes('security') && !roles.includes('audit');
  return false;
}

// Order matters: Edge and WeChat also say "Chrome", Chrome also says "Safari".
const BROWSERS: [RegExp, string][] = [
  [/Edg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/MicroMessenger\/(\d+)/, '微信'],
  [/(?:Chrome|CriOS)\/(\d+)/, 'Chrome'],
  [/(?:Firefox|FxiOS)\/(\d+)/, 'Firefox'],
  [/Version\/(\d+)[^]*Safari\//, 'Safari'],
];
const SYSTEMS: [RegExp, string][] = [
  [/Windows NT/, 'Windows'],
  [/Android/, 'Android'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/Linux/, 'Linux'],
];

/** A short browser + system label from a User-Agent header, for the session list. */
export function browserLabel(ua: string | null | undefined): string {
  const s = ua ?? '';
  if (!s) return '未知';
  let browser: string | null = null;
  for (const [re, name] of BROWSERS) {
    const m = re.exec(s);
    if (m) {
      browser = `${name} ${m[1]}`;
      break;
    }
  }
  const os = SYSTEMS.find(([re]) => re.test(s))?.[1] ?? null;
  if (!browser && !os) return [...s].slice(0, 40).join('');
  return [browser ?? '其他浏览器', os].filter(Boolean).join(' / ');
}
