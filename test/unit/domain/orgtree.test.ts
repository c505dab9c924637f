import t from 'tap';
import { childError, childOptions, removalError, subtreeIds, wouldCycle } from '../../../src/domain/orgtree.js';
import { dutiesOf, dutiesOfKind, dutyRefusal, pickDuties } from '../../../src/domain/duties.js';

t.test('childError: one level down only', async (t) => {
  const cases: [{ kind: string; hrbLevel?: string | null }, { kind: string; hrbLevel?: string | null }, RegExp | null][] = [
    [{ kind: 'platform' }, { kind: 'hrb', hrbLevel: 'province' }, null],
    [{ kind: 'platform' }, { kind: 'hrb', hrbLevel: 'city' }, /下一级人社局/],
    [{ kind: 'platform' }, { kind: 'unit' }, /只能创建下一级机构/],
    [{ kind: 'hrb', hrbLevel: 'province' }, { kind: 'hrb', hrbLevel: 'city' }, null],
    [{ kind: 'hrb', hrbLevel: 'province' }, { kind: 'hrb', hrbLevel: 'county' }, /下一级人社局/],
    [{ kind: 'hrb', hrbLevel: 'city' }, { kind: 'hrb', hrbLevel: 'county' }, null],
    [{ kind: 'hrb', hrbLevel: 'city' }, { kind: 'hrb', hrbLevel: 'city' }, /下一级人社局/],
    [{ kind: 'hrb', hrbLevel: 'city' }, { kind: 'hrb', hrbLevel: 'province' }, /下一级人社局/],
    [{ kind: 'hrb', hrbLevel: 'city' }, { kind: 'committee' }, null],
    [{ kind: 'hrb', hrbLevel: 'city' }, { kind: 'supervisor' }, null],
    [{ kind: 'hrb', hrbLevel: 'city' }, { kind: 'unit' }, /只能创建下一级机构/],
    [{ kind: 'hrb', hrbLevel: 'county' }, { kind: 'hrb', hrbLevel: 'county' }, /只能创建下一级机构/],
    [{ kind: 'hrb', hrbLevel: 'county' }, { kind: 'unit' }, null],
    [{ kind: 'hrb', hrbLevel: 'county' }, { kind: 'agency' }, null],
    [{ kind: 'supervisor' }, { kind: 'unit' }, null],
    [{ kind: 'supervisor' }, { kind: 'supervisor' }, /只能创建下一级机构/],
    [{ kind: 'committee' }, { kind: 'unit' }, /不能创建下级机构/],
    [{ kind: 'unit' }, { kind: 'unit' }, /不能创建下级机构/],
    [{ kind: 'agency' }, { kind: 'unit' }, /不能创建下级机构/],
  ];
  for (const [parent, child, want] of cases) {
    const got = childError(parent, child);
    if (want) t.match(got, want, `${JSON.stringify(parent)} → ${JSON.stringify(child)}`);
    else t.equal(got, null, `${JSON.stringify(parent)} → ${JSON.stringify(child)}`);
  }
  t.same(childOptions({ kind: 'unit' }), []);
});

t.test('wouldCycle and subtreeIds', async (t) => {
  // 1 platform ─ 2 province ─ 3 city ─ 4 county ─ 5 supervisor; 6 another city under 2.
  const map = new Map<number, number | null>([[1, null], [2, 1], [3, 2], [4, 3], [5, 4], [6, 2]]);
  const cases: [number, number, boolean][] = [
    [3, 3, true], // under itself
    [3, 4, true], // under its child
    [3, 5, true], // under its grandchild
    [4, 6, false], // to a sibling branch
    [5, 3, false], // up the same branch
    [6, 1, false],
  ];
  for (const [id, parent, want] of cases) t.equal(wouldCycle(map, id, parent), want, `${id} under ${parent}`);
  // A broken map with a loop already in it still ends.
  t.equal(wouldCycle(new Map([[7, 8], [8, 7]]), 9, 7), false);
  t.same(subtreeIds(map, 3), [3, 4, 5]);
  t.same(subtreeIds(map, 2), [2, 3, 4, 5, 6]);
  t.same(subtreeIds(map, 5), [5]);
  t.same(subtreeIds(new Map([[7, 8], [8, 7]]), 7), [7, 8], 'a loop does not hang');
});

t.test('removalError: only an empty organisation is removable', async (t) => {
  const empty = { staff: 0, people: 0, declarations: 0, children: 0 };
  t.equal(removalError(empty), null);
  t.match(removalError({ ...empty, staff: 1 }), '1 个在用的工作人员账号');
  t.match(removalError({ ...empty, people: 3 }), '3 名专业技术人员');
  t.match(removalError({ ...empty, declarations: 2 }), '2 份申报');
  t.match(removalError({ ...empty, children: 1 }), '1 个下级机构');
  t.match(removalError({ staff: 1, people: 0, declarations: 0, children: 2 }), /工作人员账号.*、2 个下级机构/);
});

t.test('duties: per kind, null = all of the org, platform split', async (t) => {
  t.same(dutiesOf(null, 'hrb'), ['review', 'return', 'stats']);
  t.same(dutiesOf('', 'hrb'), []);
  t.same(dutiesOf('review,certificate', 'hrb'), ['review'], 'a duty foreign to the kind does not count');
  t.same(dutiesOf('certificate', 'committee'), ['certificate']);
  t.same(dutiesOf(null, 'platform', ['admin']), dutiesOfKind('platform'));
  t.same(dutiesOf(null, 'platform', ['security']), [], 'the security admin does no business');
  t.same(dutiesOf(null, 'platform', ['audit']), []);
  t.same(pickDuties(['review', 'bogus', 'stats'], 'unit'), ['review', 'stats']);
  t.same(pickDuties('return', 'unit'), ['return']);
  t.same(pickDuties(undefined, 'unit'), []);
  t.match(dutyRefusal('return'), '您没有“退回审查”权限');
});
