/** Declaration states and their plain words (seed 001 §2.1, §4.2). Pure. */
export type Status = 'draft' | 'reviewing' | 'returned' | 'approved' | 'rejected' | 'failed_for_year' | 'passed' | 'failed';

export interface StageRef {
  label: string;
  name: string;
}

/** What the applicant reads on /me and /me/records. */
export function statusText(status: Status, stage: StageRef | null): string {
  switch (status) {
    case 'draft':
      return '未提交：请完善申报信息后提交申报';
    case 'reviewing':
      return stage ? `${stage.label}中（${stage.name}）` : '审核中';
    case 'returned':
      return '已返回修改：请根据审核意见修改后重新提交';
    case 'approved':
      return '评委会电子材料审核通过，可打印申报表';
    case 'rejected':
      return '不予受理';
    case 'failed_for_year':
      return '本年度申报失败：返回修改和重置流程次数已用完';
    case 'passed':
      return '评审通过';
    case 'failed':
      return '评审未通过';
  }
}

/** The applicant can edit the cover and submit only in these states. */
export const EDITABLE: readonly Status[] = ['draft', 'returned'];
/** The review form may be printed from the committee's e-review approval on (seed 001 §6.10). */
export function isPrintable(status: string): boolean {
  return status === 'approved' || status === 'passed' || status === 'failed';
}

/** States that end a declaration: a new one for the same plan is not possible, a new year is. */
export const FINAL: readonly Status[] = ['rejected', 'failed_for_year', 'passed', 'failed'];

/** 您当前已经返回修改或重置流程 N 次，您还能返回修改或重置流程 M 次 (seed 001 §4.1.3). */
export function budgetText(used: number, max: number): string {
  return `您当前已经返回修改或重置流程 ${used} 次，您还能返回修改或重置流程 ${Math.max(0, max - used)} 次`;
}

/** 同意条款 at 提交申报, word for word from seed 001 §4.1.3. */
export const AGREEMENT_TEXT = '对申报人员弄虚作假、提供虚假材料的，相关信息记入职称评审诚信档案库，并纳入全国信用信息共享平台。记录期限为3年，记录期内不得参加职称申报评审。';

/** 表十 个人承诺书 of the printed review form. */
export const PLEDGE_TEXT = [
  '本人郑重承诺：',
  '一、本人所填报的申报信息及提交的全部材料真实、准确、完整，不存在弄虚作假、伪造或变造证件证明、剽窃他人成果等行为。',
  '二、本人已认真阅读本年度职称申报评审通知和有关政策规定，符合申报条件。',
  '三、如有违反，本人愿意承担由此产生的一切后果，并接受取消申报评审资格、撤销已取得职称、记入职称评审诚信档案库等处理。',
].join('\n');

export const LEVEL_NAMES: Record<string, string> = {
  senior_full: '正高级',
  senior_vice: '副高级',
  intermediate: '中级',
  assistant: '助理级',
  junior: '员级',
};

export const CATEGORY_NAMES: Record<string, string> = {
  normal: '正常评审',
  exceptional: '破格',
  transfer: '转系列',
  recognition: '考核认定',
};

/** The first (top-level) part of a 3-level specialty path: '工程技术 - 机械… - …' → '工程技术'. */
export function specialtyRoot(path: string | null | undefined): string {
  return (path ?? '').split(' - ')[0]!.trim();
}

/**
 * 所学专业和从事专业不一致: compares the second level (专业类) of 所学专业 and 现从事专业 by
 * shared characters is unreliable, so the rule is explicit: they are "consistent" when any
 * level name of one appears in the other's path. A plan decides whether this warns or blocks.
 */
export function majorsConsistent(studied: string | null | undefined, practised: string | null | undefined): boolean {
  if (!studied || !practised) return true;
  const a = studied.split(' - ').map((s) => s.trim()).filter(Boolean);
  const b = practised.split(' - ').map((s) => s.trim()).filter(Boolean);
  return a.some((x) => b.some((y) => x === y || (x.length >= 2 && y.includes(x)) || (y.length >= 2 && x.includes(y))));
}

/**
 * 您的申报进度 on /me: 填写申报 → each stage of the route → 评审结果, and the index of the
 * current step (with the applicant while draft/returned; after e-review, the result step waits).
 */
export function progressSteps(status: Status, stage: number, routeLabels: readonly string[]): { steps: string[]; at: number } {
  const steps = ['填写申报', ...routeLabels, '评审结果'];
  const at = status === 'draft' || status === 'returned' ? 0
    : status === 'reviewing' ? stage + 1
    : status === 'approved' ? routeLabels.length
    : steps.length - 1;
  return { steps, at };
}
