/**
 * The one registry of the applicant archive: the 13 declaration sections of seed 001 §3
 * (keys as in DESIGN.md §5). Forms, validation, list pages, ordering, completeness and the
 * printed tables are all derived from this data; no section has hand-written CRUD. A plan's
 * 系列 adds its own sections (src/domain/seriesSections.ts; sectionsFor below).
 * Pure data: no I/O. Dictionaries are named here and resolved by the caller.
 */

export * from './sectionTypes.js';
import { end, period, start, type SectionDef } from './sectionTypes.js';
import { SERIES_SECTIONS } from './seriesSections.js';

export const SECTIONS: readonly SectionDef[] = [
  {
    key: 'titles',
    title: '现有职称情况',
    required: false,
    intro: '没有职称，无需填写。申报评审表【现有职称】一栏仅显示当前已聘最高职称。',
    fields: [
      { key: 'cert_no', label: '证书编号', type: 'text', required: true, max: 50 },
      { key: 'specialty', label: '职称专业', type: 'tree', dict: 'specialty', required: true },
      { key: 'title_name', label: '资格名称', type: 'select', dict: 'titles', required: true },
      { key: 'acquisition', label: '职称获取方式', type: 'select', dict: 'title_acquisition', required: true },
      { key: 'committee', label: '评审组织', type: 'select', dict: 'committees', allowOther: true, required: true, hint: '如果没有选项则选择【其他】，然后手动输入' },
      { key: 'certified_on', label: '资格认定时间', type: 'date', required: true, notFuture: true },
      { key: 'approval_doc', label: '批复文件', type: 'text', max: 100 },
      { key: 'employed', label: '是否聘任', type: 'radio', dict: 'employed', required: true, hint: '申报评审表【现有职称】一栏仅显示当前已聘最高职称' },
    ],
    columns: [
      { label: '证书编号', fields: ['cert_no'] },
      { label: '职称专业', fields: ['specialty'] },
      { label: '评审组织', fields: ['committee'] },
      { label: '职称获取方式', fields: ['acquisition'] },
      { label: '资格认定时间', fields: ['certified_on'] },
      { label: '资格名称', fields: ['title_name'] },
      { label: '是否聘任', fields: ['employed'] },
    ],
    attachments: [{ key: 'certificate', label: '职称证书', required: true }],
    printedTable: '表一',
  },
  {
    key: 'educations',
    title: '学历情况',
    required: true,
    intro: '请填写中专及以上学历。',
    fields: [
      { key: 'education', label: '学历', type: 'select', dict: 'education', required: true },
      { key: 'degree', label: '学位', type: 'select', dict: 'degree' },
      { key: 'school', label: '毕业院校', type: 'text', required: true, max: 100 },
      { key: 'major', label: '所学专业', type: 'tree', dict: 'major', required: true },
      start('入学时间'),
      end('毕业时间', { notFuture: true }),
      { key: 'study_form', label: '学习形式', type: 'radio', dict: 'study_form', required: true },
      { key: 'cert_no', label: '证书编号', type: 'text', max: 50 },
    ],
    columns: [
      { label: '学历', fields: ['education'] },
      { label: '学位', fields: ['degree'] },
      { label: '毕业院校', fields: ['school'] },
      { label: '所学专业', fields: ['major'] },
      period,
      { label: '学习形式', fields: ['study_form'] },
    ],
    attachments: [
      { key: 'diploma', label: '毕业证书' },
      { key: 'degree_cert', label: '学位证书' },
    ],
    printedTable: '表一',
  },
  {
    key: 'study',
    title: '学习经历',
    required: true,
    fields: [
      { key: 'school', label: '就读学校', type: 'text', required: true, max: 100 },
      { key: 'major', label: '所学专业', type: 'tree', dict: 'major', required: true },
      start(),
      end('结束时间', { notFuture: true }),
      { key: 'witness', label: '证明人', type: 'text', required: true, max: 20 },
      { key: 'duty', label: '担任职务', type: 'text', required: true, max: 50, hint: '没有请填“无”' },
    ],
    columns: [
      { label: '就读学校', fields: ['school'] },
      period,
      { label: '所学专业', fields: ['major'] },
      { label: '证明人', fields: ['witness'] },
      { label: '担任职务', fields: ['duty'] },
    ],
    attachments: [],
    printedTable: '表二',
  },
  {
    key: 'work',
    title: '工作经历',
    required: true,
    fields: [
      { key: 'unit_name', label: '单位名称', type: 'text', required: true, max: 100 },
      { key: 'specialty', label: '从事专业', type: 'tree', dict: 'specialty', required: true },
      start(),
      end('结束时间', { allowOngoing: true, notFuture: true }),
      { key: 'witness', label: '证明人', type: 'text', required: true, max: 20 },
      { key: 'duty', label: '担任职务', type: 'text', required: true, max: 50 },
      { key: 'seconded', label: '是否借调', type: 'radio', dict: 'employed', hint: '借调期间请单独填写一条工作经历并选“是”：借调时间不计入现职称履职年限' },
    ],
    columns: [
      { label: '单位名称', fields: ['unit_name'] },
      period,
      { label: '担任职务', fields: ['duty'] },
      { label: '证明人', fields: ['witness'] },
      { label: '从事专业', fields: ['specialty'] },
    ],
    attachments: [{ key: 'contract', label: '劳动合同、劳动合同备案表或社保证明', hint: '可上传劳动合同 或 劳动合同备案表 或 社保证明' }],
    printedTable: '表二',
  },
  {
    key: 'summaries',
    title: '专业技术工作总结',
    required: true,
    fields: [
      { key: 'year', label: '年份', type: 'year', required: true, yearsBack: 60 },
      { key: 'content', label: '总结内容', type: 'textarea', required: true, max: 2000, placeholder: '请填写2000字以内的工作总结内容' },
    ],
    columns: [
      { label: '年份', fields: ['year'] },
      { label: '总结内容', fields: ['content'] },
    ],
    attachments: [],
    printedTable: '表三',
  },
  {
    key: 'main-works',
    title: '完成主要专业技术工作情况',
    required: false,
    fields: [
      start(),
      end('结束时间', { allowOngoing: true }),
      { key: 'duty', label: '担任职务', type: 'text', required: true, max: 50, hint: '如果没有请填“无”' },
      { key: 'content', label: '工作内容', type: 'textarea', required: true, max: 500 },
      { key: 'effect', label: '工作成效', type: 'textarea', required: true, max: 200, placeholder: '请填写工作成效（200字以内）' },
    ],
    columns: [period, { label: '担任职务', fields: ['duty'] }, { label: '工作内容', fields: ['content'] }, { label: '工作成效', fields: ['effect'] }],
    attachments: [],
    printedTable: '表四',
  },
  {
    key: 'projects',
    title: '承担课题（项目）情况',
    required: false,
    fields: [
      start(),
      end('结束时间', { allowOngoing: true }),
      { key: 'name', label: '课题项目名称', type: 'text', required: true, max: 100 },
      { key: 'source', label: '项目来源/级别', type: 'select', dict: 'project_level', required: true },
      { key: 'role', label: '本人角色', type: 'select', dict: 'project_role', required: true },
      { key: 'status', label: '完成情况', type: 'text', required: true, max: 100 },
    ],
    columns: [period, { label: '课题项目名称', fields: ['name'] }, { label: '项目来源/级别', fields: ['source'] }, { label: '本人角色', fields: ['role'] }, { label: '完成情况', fields: ['status'] }],
    attachments: [{ key: 'proof', label: '立项或结题证明' }],
    printedTable: '表五',
  },
  {
    key: 'ip',
    title: '获得知识产权情况',
    required: false,
    fields: [
      { key: 'name', label: '知识产权名称', type: 'text', required: true, max: 100 },
      { key: 'number', label: '知识产权号', type: 'text', required: true, max: 50 },
      { key: 'category', label: '知识产权类别', type: 'select', dict: 'ip_category', required: true },
      { key: 'approved_on', label: '批准时间', type: 'date', required: true, notFuture: true },
      { key: 'rank', label: '本人排名', type: 'int', required: true, min: 1 },
    ],
    columns: [
      { label: '知识产权名称', fields: ['name'] },
      { label: '知识产权号', fields: ['number'] },
      { label: '知识产权类别', fields: ['category'] },
      { label: '批准时间', fields: ['approved_on'] },
      { label: '本人排名', fields: ['rank'] },
    ],
    attachments: [{ key: 'certificate', label: '知识产权证书' }],
    printedTable: '表六',
  },
  {
    key: 'awards',
    title: '表彰奖励情况',
    required: false,
    fields: [
      { key: 'name', label: '奖项名称', type: 'text', required: true, max: 100 },
      { key: 'type', label: '类型', type: 'select', dict: 'award_type', required: true },
      { key: 'grade', label: '奖励等级', type: 'select', dict: 'award_grade', required: true },
      { key: 'level', label: '奖励级别', type: 'select', dict: 'award_level', required: true },
      { key: 'approved_on', label: '批准时间', type: 'date', required: true, notFuture: true },
      { key: 'authority', label: '批准机关', type: 'text', required: true, max: 100 },
      { key: 'rank', label: '本人排名', type: 'int', required: true, min: 1, hint: '集体奖项请填写本人在集体中的排名；个人奖项填 1' },
      { key: 'task', label: '本人承担任务', type: 'textarea', max: 200 },
    ],
    columns: [
      { label: '奖项名称', fields: ['name'] },
      { label: '类型', fields: ['type'] },
      { label: '奖励等级', fields: ['grade'] },
      { label: '批准时间', fields: ['approved_on'] },
      { label: '奖励级别', fields: ['level'] },
      { label: '本人排名', fields: ['rank'] },
    ],
    attachments: [{ key: 'certificate', label: '获奖证书' }],
    printedTable: '表七',
  },
  {
    key: 'books',
    title: '撰写著作情况',
    required: false,
    intro: '未出版的著作：出版日期填写完成日期，出版单位填写“未出版/暂无”。',
    fields: [
      { key: 'title', label: '著作名称', type: 'text', required: true, max: 100 },
      { key: 'published_on', label: '出版日期', type: 'date', required: true, notFuture: true, hint: '未出版的填写完成日期' },
      { key: 'type', label: '类型', type: 'select', dict: 'book_type', required: true },
      { key: 'level', label: '级别', type: 'select', dict: 'book_level' },
      { key: 'part', label: '本人承担部分', type: 'text', required: true, max: 100 },
      { key: 'publisher', label: '出版单位', type: 'text', required: true, max: 100, hint: '未出版的填写“未出版/暂无”' },
    ],
    columns: [
      { label: '著作名称', fields: ['title'] },
      { label: '出版日期', fields: ['published_on'] },
      { label: '类型', fields: ['type'] },
      { label: '本人承担部分', fields: ['part'] },
      { label: '出版单位', fields: ['publisher'] },
    ],
    attachments: [{ key: 'cover', label: '封面、版权页及目录' }],
    printedTable: '表八',
  },
  {
    key: 'papers',
    title: '撰写论文情况',
    required: false,
    intro: '未发表的论文：发表日期填写完成日期，发表刊物填写“未发表/暂无”。',
    fields: [
      { key: 'title', label: '论文名称', type: 'text', required: true, max: 200 },
      { key: 'journal', label: '发表刊物', type: 'text', required: true, max: 100, hint: '未发表的填写“未发表/暂无”' },
      { key: 'published_on', label: '发表日期', type: 'date', required: true, notFuture: true, hint: '未发表的填写完成日期' },
      { key: 'issn', label: '刊号', type: 'text', max: 50, placeholder: 'ISSN / CN' },
      { key: 'type', label: '论文类型', type: 'select', dict: 'paper_type', required: true },
      { key: 'level', label: '级别', type: 'select', dict: 'paper_level' },
      { key: 'part', label: '本人承担部分', type: 'text', max: 100 },
      // 代表作 review (issue #16): the plan says how many at most (src/domain/seriesRules.ts); they print and list first.
      { key: 'representative', label: '代表作', type: 'radio', options: ['是', '否'], hint: '评审计划规定了代表作篇数的，选“是”的论文作为代表作送审，排在最前' },
      // 知网收录 (seed 004): the node page's link; its screenshot goes into the 知网收录截图 slot.
      { key: 'cnki_url', label: '知网收录网址', type: 'text', max: 300, placeholder: 'https://kns.cnki.net/…', hint: '在知网“期刊大全”中检索到论文后，复制节点文献的网址；评审计划要求知网收录证明的必须填写并上传截图' },
    ],
    columns: [
      { label: '论文名称', fields: ['title'] },
      { label: '发表刊物', fields: ['journal'] },
      { label: '发表日期', fields: ['published_on'] },
      { label: '刊号', fields: ['issn'] },
      { label: '论文类型', fields: ['type'] },
      { label: '本人承担部分', fields: ['part'] },
      { label: '代表作', fields: ['representative'] },
    ],
    attachments: [
      { key: 'copy', label: '刊物封面、目录及正文' },
      { key: 'cnki', label: '知网收录截图', hint: '知网节点文献页面的截图（“发表论文（知网收录）”只表明文章发表过，不能证明其符合职称评审的要求）' },
    ],
    printedTable: '表八',
  },
  {
    key: 'ce',
    title: '参加继续教育和国际学术活动情况',
    required: false,
    fields: [
      start(),
      end('结束时间', { allowOngoing: true, printOngoingAsToday: true, hint: '仍在进行的选择“至今”，打印时为当天日期' }),
      { key: 'name', label: '名称（全称）', type: 'text', required: true, max: 100 },
      { key: 'organizer', label: '举办单位', type: 'text', required: true, max: 100 },
      { key: 'place', label: '举办地点', type: 'text', required: true, max: 100 },
      { key: 'content', label: '主要内容', type: 'textarea', required: true, max: 200 },
      // Seed 001 §3.12: the list's column is 天数 (days).
      { key: 'hours', label: '天数', type: 'int', required: true, min: 1, placeholder: '如：3' },
    ],
    columns: [period, { label: '名称', fields: ['name'] }, { label: '举办单位', fields: ['organizer'] }, { label: '举办地点', fields: ['place'] }, { label: '天数', fields: ['hours'] }],
    attachments: [{ key: 'certificate', label: '学时证明' }],
    printedTable: '表九',
  },
  {
    key: 'assessments',
    title: '年度考核情况',
    required: true,
    intro: '填写近五年的年度考核，每年一条。',
    fields: [
      // Seed 001 §3.13: 时间 (请选择年份).
      { key: 'year', label: '时间', type: 'year', required: true, yearsBack: 5, placeholder: '请选择年份' },
      { key: 'grade', label: '考核等级', type: 'select', dict: 'assessment_grade', required: true },
      { key: 'leader', label: '部门负责人', type: 'text', required: true, max: 20 },
    ],
    columns: [
      { label: '时间', fields: ['year'] },
      { label: '考核等级', fields: ['grade'] },
      { label: '部门负责人', fields: ['leader'] },
    ],
    attachments: [],
    uniqueBy: 'year',
    printedTable: '表十一',
  },

];

/** Every section of the registry: the common ones, then the series' own (src/domain/seriesSections.ts). */
export const ALL_SECTIONS: readonly SectionDef[] = [...SECTIONS, ...SERIES_SECTIONS];

/** The sections of a plan of this 系列 (null: 不限 or unknown): the common ones, then the series' own, registry order. */
export function sectionsFor(series: string | null | undefined): SectionDef[] {
  return ALL_SECTIONS.filter((s) => !s.series || (!!series && s.series.includes(series)));
}

export const SECTION_KEYS = SECTIONS.map((s) => s.key);

export function sectionByKey(key: string): SectionDef | undefined {
  return ALL_SECTIONS.find((s) => s.key === key);
}

/** Every dictionary the registry refers to (so a caller can load them in one go). */
export function sectionDicts(def: SectionDef): string[] {
  return [...new Set(def.fields.map((f) => f.dict).filter((d): d is string => !!d))];
}
