import t from 'tap';
import { briefModel, MAX_ACHIEVEMENTS } from '../../../src/print/brief.js';

const rows = (xs: Record<string, unknown>[]) => xs.map((data) => ({ data }));

t.test('briefModel: identity, title and years (tenure.ts), up to 5 achievements, short opinion', async (t) => {
  const b = briefModel({
    cover: { title: '副主任医师', level: 'senior_vice', specialty: '心血管内科', year: 2026 },
    person: { name: '张伟', gender: '男', birth: '1985-06-12', unitName: '昆明市第一人民医院' },
    sections: {
      titles: rows([{ title_name: '主治医师', title_level: 'intermediate', certified_on: '2016-07-01', employed: '是' }]),
      work: rows([{ start: '2008-07-01', end: '2026-06-30' }]),
      educations: rows([{ education: '硕士研究生', school: '昆明医科大学', major: '内科学', end: '2008-06-30' }, { education: '大学本科', school: '大理大学', major: '临床医学', end: '2005-06-30' }]),
      papers: rows(Array.from({ length: 4 }, (_, i) => ({ title: `论文${i + 1}`, journal: '中华心血管病杂志', published_on: '2020-03-01' }))),
      awards: rows([{ name: '云南省卫生科技成果奖', grade: '二等奖', approved_on: '2021-12-01' }, { name: '另一个奖', grade: '三等奖' }]),
    },
  }, { order: 3, group: '内科组', opinion: '同意推荐：  该同志业务能力强。'.padEnd(200, '好') });
  t.equal(b.name, '张伟');
  t.equal(b.order, 3);
  t.match(b.education, '硕士研究生，昆明医科大学 内科学');
  t.equal(b.currentTitle, '主治医师');
  t.match(b.currentSince, '2016');
  t.match(b.titleYears, /10年/);
  t.equal(b.workYears, '18年', '2008-07-01 to 2026-06-30, as tenure.ts counts it');
  t.equal(b.target, '副主任医师（副高级）');
  t.equal(b.achievements.length, MAX_ACHIEVEMENTS);
  t.match(b.achievements[0]!, '论文：《论文1》，中华心血管病杂志，2020-03');
  t.match(b.achievements[4]!, '奖励：云南省卫生科技成果奖（二等奖，2021年）');
  t.equal([...b.opinion].length, 151, 'the opinion in short (150 characters and …)');
  t.notMatch(b.opinion, '  ');
});

t.test('briefModel: an empty archive still makes a page', async (t) => {
  const b = briefModel({ cover: { year: 2026 }, person: { name: '李娜', gender: '女', birth: '', unitName: null }, sections: {} }, { order: 1, group: '外科组', opinion: null });
  t.same(b.achievements, []);
  t.equal(b.opinion, '');
  t.equal(b.currentTitle, '');
});
