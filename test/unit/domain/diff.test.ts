import t from 'tap';
import { diffSnapshots } from '../../../src/domain/diff.js';

const base = {
  profile: { email: 'zhangwei@example.com', department: '心血管内科' },
  sections: {
    study: [{ id: 1, data: { school: '昆明医科大学', start: '2002-09-01' } }, { id: 2, data: { school: '云南大学', start: '2007-09-01' } }],
    papers: [{ id: 7, data: { title: '急性心肌梗死', journal: '中国实用医刊' } }],
  },
  attachments: [{ slot: 'pledge', label: '承诺书', files: [{ fileId: 1, name: '承诺书.pdf' }] }],
};

t.test('no change → nothing', async (t) => {
  t.same(diffSnapshots(base, structuredClone(base)), []);
});

t.test('changed field, added and removed rows, profile, attachments, order', async (t) => {
  const cur = structuredClone(base) as any;
  cur.profile.department = '心内科';
  cur.sections.study[0].data.school = '昆明医学院';
  cur.sections.study.push({ id: 3, data: { school: '北京协和医学院', start: '2012-09-01' } });
  cur.sections.papers = [];
  cur.attachments[0].files = [{ fileId: 2, name: '承诺书（新）.pdf' }];
  const d = diffSnapshots(base, cur, { department: '所在部门' });
  const by = Object.fromEntries(d.map((s) => [s.key, s]));
  t.same(by.profile!.rows[0]!.fields, [{ label: '所在部门', before: '心内科'.length ? '心血管内科' : '', after: '心内科' }]);
  t.same(by.study!.rows.map((r) => r.kind), ['changed', 'added']);
  t.same(by.study!.rows[0]!.fields, [{ label: '就读学校', before: '昆明医科大学', after: '昆明医学院' }]);
  t.same(by.papers!.rows.map((r) => r.kind), ['removed']);
  t.equal(by.attachments!.rows[0]!.fields[0]!.after, '承诺书（新）.pdf');

  const reordered = structuredClone(base) as any;
  reordered.sections.study.reverse();
  t.same(diffSnapshots(base, reordered).map((s) => [s.key, s.rows[0]!.summary]), [['study', '顺序已调整']]);
});
