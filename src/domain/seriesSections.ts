/**
 * The series' own sections (issue #16), part of the one registry (src/domain/sections.ts): a
 * plan shows them when its 系列 is in the entry's `series`. Each prints as its own table after
 * the common table named by `printAfter`, in this order. Adding one is an entry here (plus a
 * migration when it needs a plan setting). Pure data.
 */
import { end, hoursResult, period, start, theoryResult, SERIES_ENGINEERING, SERIES_HIGHER_ED, SERIES_SCHOOL, type SectionDef } from './sectionTypes.js';

export const SERIES_SECTIONS: readonly SectionDef[] = [
  // ---- Series sections (issue #16): shown only when the plan's 系列 is listed in `series`. ----
  // 中小学教师 (seed 004, 职称评审系统使用说明: 录入基本情况, 录入公开课).
  {
    key: 'teacher-type',
    title: '拟评审类型',
    required: true,
    intro: '一定要选择正确的“拟评审类型”，否则后果严重。只填写一条。',
    series: [SERIES_SCHOOL],
    fields: [
      { key: 'type', label: '拟评审类型', type: 'select', options: ['正常晋级', '破格晋级', '转评（转系列）', '初次认定'], required: true },
      { key: 'note', label: '说明', type: 'text', max: 100, hint: '破格晋级、转评的写明依据' },
    ],
    columns: [
      { label: '拟评审类型', fields: ['type'] },
      { label: '说明', fields: ['note'] },
    ],
    attachments: [],
    maxRows: 1,
    printedTable: '表二',
    printAfter: 'work',
  },
  {
    key: 'open-classes',
    title: '公开课',
    required: false,
    intro: '填写任现职以来公开课信息，并按行上传对应的附件。精品课、评优课、与基本功竞赛有关的课、与教学设计比赛有关的课等内容不放在公开课栏目内。',
    series: [SERIES_SCHOOL],
    fields: [
      { key: 'given_on', label: '授课时间', type: 'date', required: true, notFuture: true },
      { key: 'topic', label: '课题', type: 'text', required: true, max: 100 },
      { key: 'subject', label: '学科', type: 'text', required: true, max: 50 },
      { key: 'level', label: '公开课级别', type: 'select', options: ['校级', '县（区）级', '市（州）级', '省级', '国家级'], required: true },
      { key: 'organizer', label: '组织单位', type: 'text', required: true, max: 100 },
      { key: 'audience', label: '授课对象', type: 'text', max: 50, placeholder: '如：初二（3）班' },
    ],
    columns: [
      { label: '授课时间', fields: ['given_on'] },
      { label: '课题', fields: ['topic'] },
      { label: '学科', fields: ['subject'] },
      { label: '公开课级别', fields: ['level'] },
      { label: '组织单位', fields: ['organizer'] },
    ],
    attachments: [{ key: 'proof', label: '公开课证明材料', required: true, single: true, hint: '每条公开课上传对应的证明（通知、听课记录或证书）' }],
    sinceCurrentTitle: 'given_on',
    printedTable: '表四',
    printTitle: '公开课情况（任现职以来）',
    printAfter: 'main-works',
  },
  {
    key: 'satisfaction',
    title: '学生满意度',
    required: true,
    intro: '学生满意度不必填百分号，如 98。每年一条。',
    series: [SERIES_SCHOOL],
    fields: [
      { key: 'year', label: '年度', type: 'year', required: true, yearsBack: 10 },
      { key: 'rate', label: '学生满意度', type: 'number', required: true, min: 0, max: 100, placeholder: '如：98', hint: '不必填百分号' },
    ],
    columns: [
      { label: '年度', fields: ['year'] },
      { label: '学生满意度', fields: ['rate'] },
    ],
    attachments: [],
    uniqueBy: 'year',
    printedTable: '表四',
    printAfter: 'main-works',
  },
  {
    key: 'theory-exam',
    title: '教育理论考试成绩',
    required: true,
    intro: '教育理论填写成绩。合格分数以评审计划为准（如：2010年60分合格，2011年起70分合格）。',
    series: [SERIES_SCHOOL],
    fields: [
      { key: 'year', label: '考试年份', type: 'year', required: true, yearsBack: 40 },
      { key: 'score', label: '成绩', type: 'number', required: true, min: 0, max: 100, placeholder: '如：75' },
    ],
    columns: [
      { label: '考试年份', fields: ['year'] },
      { label: '成绩', fields: ['score'] },
    ],
    attachments: [],
    uniqueBy: 'year',
    printedTable: '表九',
    printAfter: 'ce',
    printDerived: { label: '是否合格', value: (r, p) => theoryResult(r.score, p.theoryPassMark) },
  },
  // 高等学校教师 (seed 004, 职称申报系统客户端: 教务处审核教学情况、学工部审核学生思想政治工作、组织部审核师德考核).
  {
    key: 'teaching',
    title: '教学情况',
    required: true,
    series: [SERIES_HIGHER_ED],
    fields: [
      { key: 'year', label: '学年', type: 'year', required: true, yearsBack: 20, hint: '学年的起始年份，如 2024（即2024—2025学年）' },
      { key: 'course', label: '课程名称', type: 'text', required: true, max: 100 },
      { key: 'students', label: '授课对象', type: 'text', required: true, max: 100, placeholder: '如：2023级本科生' },
      { key: 'hours', label: '授课学时', type: 'int', required: true, min: 1 },
      { key: 'evaluation', label: '教学评价', type: 'select', options: ['优秀', '良好', '合格', '不合格'] },
    ],
    columns: [
      { label: '学年', fields: ['year'] },
      { label: '课程名称', fields: ['course'] },
      { label: '授课对象', fields: ['students'] },
      { label: '授课学时', fields: ['hours'] },
      { label: '教学评价', fields: ['evaluation'] },
    ],
    attachments: [],
    printedTable: '表四',
    printAfter: 'main-works',
  },
  {
    key: 'student-work',
    title: '学生思想政治工作',
    required: false,
    intro: '40岁以下青年教师填写担任辅导员、班主任等学生思想政治工作的情况。',
    series: [SERIES_HIGHER_ED],
    fields: [
      start(),
      end('结束时间', { allowOngoing: true, notFuture: true }),
      { key: 'role', label: '担任工作', type: 'text', required: true, max: 50, placeholder: '如：辅导员、班主任' },
      { key: 'content', label: '工作内容', type: 'textarea', required: true, max: 200 },
      { key: 'result', label: '考核结果', type: 'select', options: ['优秀', '合格', '不合格'], required: true },
    ],
    columns: [period, { label: '担任工作', fields: ['role'] }, { label: '考核结果', fields: ['result'] }],
    attachments: [],
    printedTable: '表四',
    printAfter: 'main-works',
  },
  {
    key: 'ethics',
    title: '师德考核',
    required: true,
    intro: '每年一条。',
    series: [SERIES_HIGHER_ED],
    fields: [
      { key: 'year', label: '年度', type: 'year', required: true, yearsBack: 10 },
      { key: 'result', label: '考核结果', type: 'select', options: ['优秀', '合格', '基本合格', '不合格'], required: true },
      { key: 'org', label: '考核单位', type: 'text', required: true, max: 100 },
    ],
    columns: [
      { label: '年度', fields: ['year'] },
      { label: '考核结果', fields: ['result'] },
      { label: '考核单位', fields: ['org'] },
    ],
    attachments: [],
    uniqueBy: 'year',
    printedTable: '表十一',
    printAfter: 'assessments',
  },
  // 工程技术人员, 贵州 style (seed 003: 考试考核学时情况).
  {
    key: 'study-hours',
    title: '考试考核学时情况',
    required: true,
    intro: '每年一条，填写当年取得的继续教育学时；评审计划规定了每年最低学时的，不足的年份不能申报。',
    series: [SERIES_ENGINEERING],
    fields: [
      { key: 'year', label: '年度', type: 'year', required: true, yearsBack: 10 },
      { key: 'hours', label: '学时', type: 'int', required: true, min: 0 },
      { key: 'content', label: '学习内容', type: 'text', max: 100 },
      { key: 'org', label: '组织单位', type: 'text', max: 100 },
    ],
    columns: [
      { label: '年度', fields: ['year'] },
      { label: '学时', fields: ['hours'] },
      { label: '学习内容', fields: ['content'] },
    ],
    attachments: [{ key: 'certificate', label: '学时证明' }],
    uniqueBy: 'year',
    printedTable: '表九',
    printAfter: 'ce',
    printDerived: { label: '是否达标', value: (r, p) => hoursResult(r.hours, p.minStudyHours) },
  },
];
