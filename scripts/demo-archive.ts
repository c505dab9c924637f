import type { AppContext } from '../src/context.js';
import { sectionByKey } from '../src/domain/sections.js';
import { createRow, countRows } from '../src/features/sections/service.js';
import { saveProfile } from '../src/features/profile/service.js';

type Rows = Record<string, Record<string, string>[]>;

/**
 * Fills the demo applicants' archives through the same use cases the forms call, so the
 * demo data obeys every rule of the section registry. Skips sections that already have rows.
 */
export async function seedDemoArchive(ctx: AppContext, users: { id: number; name: string; unitId: number }[]): Promise<void> {
  const dicts = await ctx.dicts.ready();
  const major = dicts.searchTree('major', '临床医学')[0] ?? dicts.searchTree('major', '医学')[0]!;
  const nursing = dicts.searchTree('major', '护理')[0] ?? major;
  const spec = dicts.searchTree('specialty', '临床')[0] ?? dicts.searchTree('specialty', '卫生')[0]!;
  const title = dicts.options('titles').find((o) => o.name.includes('主治'))?.name ?? dicts.options('titles')[0]!.name;
  const y = new Date(ctx.config.now().getTime() + 8 * 3_600_000).getUTCFullYear();

  const archives: Record<string, { profile: Record<string, string>; rows: Rows }> = {
    张伟: {
      profile: { native_place: '云南昆明', ethnic: '汉族', political: '中共党员', major, academic_roles: '云南省医学会心血管病学分会委员', email: 'zhangwei@example.com', address: '云南省昆明市五华区青年路', postcode: '650021', department: '心血管内科', position: '副主任', specialty: spec },
      rows: {
        titles: [{ cert_no: 'YN2019ZZ0231', specialty: spec, title_name: title, acquisition: '申报评审', committee: '昆明市卫生技术高级职称评审委员会', certified_on: '2019-09-01', approval_doc: '昆人社通〔2019〕88号', employed: '是' }],
        educations: [{ education: '硕士研究生', degree: '硕士', school: '昆明医科大学', major, start: '2007-09-01', end: '2010-07-01', study_form: '全日制', cert_no: '106781201002000123' }],
        study: [
          { school: '昆明医科大学', major, start: '2002-09-01', end: '2007-07-01', witness: '王建国', duty: '班长' },
          { school: '昆明医科大学', major, start: '2007-09-01', end: '2010-07-01', witness: '刘明', duty: '无' },
        ],
        work: [{ unit_name: '昆明市第一人民医院', specialty: spec, start: '2010-08-01', end: '至今', witness: '李娜', duty: '主治医师' }],
        summaries: [{ year: String(y - 1), content: '任现职以来，坚持以病人为中心，主持开展经皮冠状动脉介入治疗技术，全年完成门诊诊疗四千余人次、介入手术一百二十余例，无医疗差错；指导规培医师十二名。' }],
        'main-works': [{ start: '2021-01-01', end: '2023-12-31', duty: '负责人', content: '牵头建设胸痛中心，制定急性胸痛诊疗流程。', effect: '胸痛中心通过国家认证，门球时间缩短至60分钟以内。' }],
        papers: [{ title: '急性心肌梗死患者介入治疗后的康复管理', journal: '中国实用医刊', published_on: '2022-05-10', issn: 'ISSN 1674-4756', type: '期刊论文', level: '', part: '第一作者' }],
        assessments: [0, 1, 2, 3, 4].map((k) => ({ year: String(y - 1 - k), grade: k === 1 ? '优秀' : '合格', leader: '李娜' })),
      },
    },
    王芳: {
      profile: { native_place: '云南大理', ethnic: '白族', political: '群众', major: nursing, academic_roles: '无', email: 'wangfang@example.com', address: '云南省昆明市盘龙区北京路', postcode: '650051', department: '护理部', position: '护士长', specialty: spec },
      rows: {
        educations: [{ education: '大学本科', degree: '学士', school: '大理大学', major: nursing, start: '2009-09-01', end: '2013-07-01', study_form: '全日制', cert_no: '106791201305000456' }],
        study: [{ school: '大理大学', major: nursing, start: '2009-09-01', end: '2013-07-01', witness: '杨丽', duty: '学习委员' }],
        work: [{ unit_name: '昆明市第一人民医院', specialty: spec, start: '2013-08-01', end: '至今', witness: '李娜', duty: '护士长' }],
        summaries: [{ year: String(y - 1), content: '负责病区护理质量管理，推行责任制整体护理，患者满意度持续保持在98%以上。' }],
        assessments: [0, 1, 2].map((k) => ({ year: String(y - 1 - k), grade: '合格', leader: '李娜' })),
      },
    },
  };

  for (const u of users) {
    const a = archives[u.name];
    if (!a) continue;
    const counts = await countRows(ctx, u.id);
    if (Object.keys(counts).length) continue;
    const p = await saveProfile(ctx, u.id, { ...a.profile, name: u.name, unit_org_id: String(u.unitId) });
    if (!p.ok) throw new Error(`demo profile of ${u.name}: ${JSON.stringify(p.errors)}`);
    for (const [key, rows] of Object.entries(a.rows)) {
      for (const row of rows) {
        const input: Record<string, string> = { ...row };
        if (row.end === '至今') input.end_ongoing = '1';
        const r = await createRow(ctx, u.id, sectionByKey(key)!, input);
        if (!r.ok) throw new Error(`demo ${key} of ${u.name}: ${JSON.stringify(r.errors)}`);
      }
    }
  }
}
