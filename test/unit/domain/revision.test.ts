import t from 'tap';
import { sectionUnchanged, tickedSections, untouchedSections, type RevisionRow } from '../../../src/domain/revision.js';

const edu = (id: number, school: string, files: { slot: string; fileId: number }[] = []): RevisionRow => ({
  id, data: { education: '大学本科', degree: '学士', school, major: '临床医学', start: '2009-09-01', end: '2013-07-01', study_form: '全日制', cert_no: '1067' }, files,
});

t.test('tickedSections: the keys of a 返回修改 event, registry order, unknown and broken data dropped', async (t) => {
  const cases: [string | null, string[]][] = [
    [JSON.stringify({ sections: ['papers', 'educations'] }), ['educations', 'papers']],
    [JSON.stringify({ sections: ['papers', 'nope', 'profile'] }), ['papers']],
    [JSON.stringify({ sections: 'papers' }), []],
    [JSON.stringify({}), []],
    ['{not json', []],
    [null, []],
  ];
  for (const [data, want] of cases) t.same(tickedSections(data), want, String(data));
});

t.test('sectionUnchanged: rows, order, field values and attachments; saving unchanged is no change', async (t) => {
  const before = [edu(1, '昆明医科大学', [{ slot: 'certificate', fileId: 7 }]), edu(2, '大理大学')];
  const cases: [string, RevisionRow[], boolean][] = [
    ['identical', [edu(1, '昆明医科大学', [{ slot: 'certificate', fileId: 7 }]), edu(2, '大理大学')], true],
    ['saved again: numbers vs strings, keys reordered, extra keys', [{ ...edu(1, '昆明医科大学', [{ slot: 'certificate', fileId: 7 }]), data: { cert_no: 1067, ...edu(1, '昆明医科大学').data, title_level: 'x' } }, edu(2, '大理大学')], true],
    ['a field changed', [edu(1, '云南大学', [{ slot: 'certificate', fileId: 7 }]), edu(2, '大理大学')], false],
    ['a row removed', [edu(1, '昆明医科大学', [{ slot: 'certificate', fileId: 7 }])], false],
    ['a row added', [...before, edu(3, '昆明理工大学')], false],
    ['order changed', [edu(2, '大理大学'), edu(1, '昆明医科大学', [{ slot: 'certificate', fileId: 7 }])], false],
    ['an attachment replaced', [edu(1, '昆明医科大学', [{ slot: 'certificate', fileId: 8 }]), edu(2, '大理大学')], false],
    ['an attachment removed', [edu(1, '昆明医科大学'), edu(2, '大理大学')], false],
  ];
  for (const [name, now, want] of cases) t.equal(sectionUnchanged('educations', before, now), want, name);
});

t.test('untouchedSections: the ticked sections left as they were', async (t) => {
  const before = { educations: [edu(1, '昆明医科大学')], papers: [{ id: 5, data: { title: '论文' } }] };
  t.same(untouchedSections(['educations', 'papers'], before, before), ['educations', 'papers']);
  t.same(untouchedSections(['educations', 'papers'], before, { ...before, educations: [edu(1, '云南大学')] }), ['papers']);
  t.same(untouchedSections(['educations'], before, { educations: [edu(1, '昆明医科大学')], papers: [] }), ['educations'], 'unticked changes do not matter');
  t.same(untouchedSections(['ce'], before, {}), ['ce'], 'empty before and after: untouched');
  t.same(untouchedSections([], before, {}), []);
});
