/** The left menu per role, in one place. Later features add their entries here. */
export interface MenuItem {
  label: string;
  href: string;
  children?: MenuItem[];
}

export interface MenuUser {
  kind: 'applicant' | 'staff';
  roles: string[];
  orgKind: string | null;
  /** Declarations waiting for this user's organisation (shown on 申报审核). */
  todo?: number;
  /** Recognitions (初定/认定) waiting for this organisation: the unit's 待上报 or the office's 待审核. */
  recognitionTodo?: number;
  /** 本级人员授权 (staff): links to pages none of whose duties the user holds are hidden. Absent: not filtered. */
  duties?: readonly string[];
  /** An applicant's sections: those of their plan's 系列 (issue #16); absent = the common ones. */
  sections?: readonly SectionDef[];
}

import { sectionsFor, type SectionDef } from '../domain/sections.js';
import { pageDuties } from '../domain/duties.js';

const sectionMenu = (sections: readonly SectionDef[]): MenuItem[] => sections.map((s) => ({ label: s.required ? `${s.title}（必填）` : s.title, href: `/me/sections/${s.key}` }));
const SECTION_MENU = sectionMenu(sectionsFor(null));

const ACCOUNT: MenuItem = {
  label: '账号设置',
  href: '/account/password',
  children: [
    { label: '修改密码', href: '/account/password' },
    { label: '修改手机号', href: '/account/phone' },
  ],
};

/** Drops the links whose page needs a duty the user lacks (and a parent left without children). */
function byDuties(items: MenuItem[], duties: readonly string[] | undefined): MenuItem[] {
  if (!duties) return items;
  const may = (href: string) => { const need = pageDuties(href); return !need || need.some((d) => duties.includes(d)); };
  const out: MenuItem[] = [];
  for (const i of items) {
    if (i.children) {
      const children = byDuties(i.children, duties);
      if (!children.length) continue;
      out.push({ ...i, href: may(i.href) ? i.href : children[0]!.href, children });
    } else if (may(i.href)) out.push(i);
  }
  return out;
}

export function menuFor(user: MenuUser | null): MenuItem[] {
  return user && user.kind === 'staff' ? byDuties(menuItems(user), user.duties) : menuItems(user);
}

function menuItems(user: MenuUser | null): MenuItem[] {
  if (!user) return [];
  if (user.kind === 'applicant') {
    return [
      { label: '首页', href: '/me' },
      { label: '基本信息', href: '/me/profile' },
      { label: '申报信息管理', href: '/me/sections', children: user.sections ? sectionMenu(user.sections) : SECTION_MENU },
      {
        label: '职称申报',
        href: '/me/declaration',
        children: [
          { label: '个人申报', href: '/me/declaration' },
          { label: '申报记录', href: '/me/records' },
          { label: '附件管理', href: '/me/attachments' },
          { label: '申报历史', href: '/me/history' },
          { label: '我的证书', href: '/me/certificates' },
        ],
      },
      { label: '职称认定', href: '/me/recognition' },
      { label: '证书服务', href: '/me/cert-services' },
      { label: '消息中心', href: '/me/messages' },
      { label: '通知公告', href: '/notices' },
      ACCOUNT,
      { label: '帮助', href: '/help' },
    ];
  }
  // 三权分立: the security and audit admins see only their own area (+ messages, own account).
  if (user.orgKind === 'platform' && (user.roles.includes('security') || user.roles.includes('audit'))) {
    const area: MenuItem = user.roles.includes('security')
      ? { label: '安全管理', href: '/admin/security/users', children: [{ label: '用户与权限', href: '/admin/security/users' }, { label: '安全策略', href: '/admin/security/policy' }] }
      : { label: '审计日志', href: '/admin/audit' };
    return [area, { label: '消息中心', href: '/org/messages' }, { label: '修改密码', href: '/account/password' }, { label: '双因素认证', href: '/account/2fa' }, { label: '帮助', href: '/help' }];
  }
  // 评委 (issue #16): their meetings only.
  if (user.roles.includes('member')) {
    return [{ label: '评审表决', href: '/vote' }, { label: '修改密码', href: '/account/password' }, { label: '双因素认证', href: '/account/2fa' }, { label: '帮助', href: '/help' }];
  }
  const items: MenuItem[] = [{ label: '首页', href: '/org' }];
  if (user.orgKind !== 'platform') {
    items.push({ label: user.todo ? `申报审核（待审 ${user.todo}）` : '申报审核', href: '/org/reviews' });
    if (user.orgKind !== 'committee') items.push({ label: user.recognitionTodo ? `职称认定（待办 ${user.recognitionTodo}）` : '职称认定', href: '/org/recognitions' });
  }
  items.push({ label: '消息中心', href: '/org/messages' });
  if (user.orgKind === 'committee') {
    items.push({ label: '评审计划', href: '/org/plans' }, { label: '通知公告', href: '/org/notices' });
    items.push({ label: '评审会议', href: '/org/evaluations' }, { label: '评委专家库', href: '/org/experts' }, { label: '结果公示', href: '/org/result-publicity' }, { label: '证书', href: '/org/certificates' }, { label: '打印空白表格', href: '/forms/blank' });
    items.push({ label: '转评委会', href: '/org/transfers' });
  }
  if (user.orgKind === 'unit' || user.orgKind === 'agency') {
    items.push({ label: '申报公示', href: '/org/publicity' }, { label: '推荐上报', href: '/org/recommend' }, { label: '职能部门审核', href: '/org/checks' });
  }
  // 诚信档案 (issue #13): kept by HR bureaus and committee offices; unit sanctions by them and supervisors.
  if (user.orgKind === 'hrb' || user.orgKind === 'committee') items.push({ label: '诚信档案', href: '/org/integrity' });
  if (user.orgKind === 'hrb' || user.orgKind === 'supervisor') items.push({ label: '暂停单位推荐', href: '/org/sanctions' });
  // 证书服务 (issue #13): 外地调入确认 at the HR bureaus; 遗失补办 wherever certificates are issued.
  if (user.orgKind === 'hrb' || user.orgKind === 'committee' || user.orgKind === 'supervisor') items.push({ label: '证书服务', href: '/org/cert-services' });
  if (user.orgKind !== 'platform') items.push({ label: '统计', href: '/org/stats' }, { label: '数据导出', href: '/org/exports' });
  if (user.orgKind === 'unit' || user.orgKind === 'agency') {
    items.push(
      { label: '单位信息', href: '/org/unit' },
      { label: '主管部门', href: '/org/unit/supervisor' },
      { label: '工作人员', href: '/org/unit/staff' },
      { label: '专业技术人员管理', href: '/org/people' },
      { label: '岗位设置与聘任', href: '/org/posts' },
    );
  }
  // 岗位统计 (结构比例): a unit's own posts, a supervisor's units, an HR bureau's region.
  if (user.orgKind === 'unit' || user.orgKind === 'agency' || user.orgKind === 'supervisor' || user.orgKind === 'hrb') items.push({ label: '岗位统计', href: '/org/posts/stats' });
  if (user.orgKind === 'supervisor') items.push({ label: '下属单位审核', href: '/org/unit-reviews' });
  // 机构管理员 (src/features/orgtree): the org's children and its staff's duties.
  if (user.orgKind !== 'platform' && (user.roles.includes('org_admin') || user.roles.includes('unit_admin'))) {
    items.push({ label: '用户管理', href: '/org/tree', children: [{ label: '组织机构管理', href: '/org/tree' }, { label: '本级人员授权', href: '/org/staff' }, ...(user.orgKind === 'unit' || user.orgKind === 'agency' ? [{ label: '职能部门审核设置', href: '/org/checkers' }] : [])] });
  }
  if (user.roles.includes('admin')) {
    items.push({
      label: '平台管理',
      href: '/admin',
      children: [
        { label: '组织机构', href: '/admin/orgs' },
        { label: '组织机构管理（逐级）', href: '/org/tree' },
        { label: '用户管理', href: '/admin/users' },
        { label: '节假日', href: '/admin/holidays' },
        { label: '数据字典', href: '/admin/dicts' },
        { label: '数据交换', href: '/admin/exchange' },
        { label: '接口令牌', href: '/admin/api-tokens' },
        { label: '短信发件箱', href: '/admin/sms' },
        { label: '评审计划', href: '/org/plans' },
        { label: '通知公告', href: '/org/notices' },
        { label: '评审会议', href: '/org/evaluations' },
        { label: '结果公示', href: '/org/result-publicity' },
        { label: '证书', href: '/org/certificates' },
      ],
    });
  }
  items.push({ label: '修改密码', href: '/account/password' }, { label: '双因素认证', href: '/account/2fa' }, { label: '帮助', href: '/help' });
  return items;
}
