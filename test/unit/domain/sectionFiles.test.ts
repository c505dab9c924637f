import t from 'tap';
import { sectionFileRows } from '../../../src/domain/sectionFiles.js';

const f = (slot: string, fileId: number, name = `${fileId}.pdf`) => ({ slot, fileId, name });

const cases: { name: string; sections: Parameters<typeof sectionFileRows>[0]; want: { label: string; row: string; files: number[] }[] }[] = [
  { name: 'no files → nothing', sections: { titles: [{ data: { cert_no: 'A1' }, files: [] }] }, want: [] },
  {
    name: 'Chinese section and slot titles, never registry keys',
    sections: { titles: [{ data: { cert_no: 'ZC-001', specialty: '内科' }, files: [f('certificate', 1)] }] },
    want: [{ label: '现有职称情况 · 职称证书', row: 'ZC-001 / 内科', files: [1] }],
  },
  {
    name: 'registry order of sections (whatever the snapshot order), slot order within a row',
    sections: {
      papers: [{ data: { title: '急性心肌梗死', journal: '中国实用医刊' }, files: [f('copy', 5)] }],
      work: [{ data: {}, files: [f('contract', 4)] }],
      educations: [{ data: { education: '本科' }, files: [f('degree_cert', 3), f('diploma', 2)] }],
    },
    want: [
      { label: '学历情况 · 毕业证书', row: '本科', files: [2] },
      { label: '学历情况 · 学位证书', row: '本科', files: [3] },
      { label: '工作经历 · 劳动合同、劳动合同备案表或社保证明', row: '', files: [4] },
      { label: '撰写论文情况 · 刊物封面、目录及正文', row: '急性心肌梗死 / 中国实用医刊', files: [5] },
    ],
  },
  {
    name: 'several files of one slot on one line; one line per row',
    sections: { awards: [{ data: {}, files: [f('certificate', 7), f('certificate', 8)] }, { data: {}, files: [f('certificate', 9)] }] },
    want: [
      { label: '表彰奖励情况 · 获奖证书', row: '', files: [7, 8] },
      { label: '表彰奖励情况 · 获奖证书', row: '', files: [9] },
    ],
  },
  {
    name: 'a slot or section the registry no longer has (an old version) is still listed',
    sections: { titles: [{ data: {}, files: [f('old_slot', 10)] }], gone: [{ data: {}, files: [f('x', 11)] }] },
    want: [
      { label: '现有职称情况 · 附件', row: '', files: [10] },
      { label: '其他附件', row: '', files: [11] },
    ],
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const got = sectionFileRows(c.sections).map((r) => ({ label: r.label, row: r.row, files: r.files.map((x) => x.fileId) }));
    t.same(got, c.want);
    for (const r of got) t.notMatch(r.label, /[a-z_]/, 'no registry key in a label');
  });
}
