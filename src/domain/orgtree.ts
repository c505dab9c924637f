// 组织机构管理 (seed 004): each organisation's admin creates children one level down. Pure rules.

export type TreeKind = 'platform' | 'hrb' | 'supervisor' | 'committee' | 'unit' | 'agency';
export type HrbLevel = 'province' | 'city' | 'county';
export interface TreeNode { kind: TreeKind | string; hrbLevel?: string | null }

const HRB_BELOW: Record<string, HrbLevel | null> = { province: 'city', city: 'county', county: null };

/**
 * The kinds (and, for an HR bureau, the level) an organisation may create as its children:
 * the platform the provincial bureaus and committees; a bureau the bureau one level down,
 * committee offices and supervisory departments (a county bureau also agencies and units);
 * a supervisory department its units. Committees, units and agencies have no children.
 */
export function childOptions(parent: TreeNode): { kind: TreeKind; hrbLevel?: HrbLevel }[] {
  switch (parent.kind) {
    case 'platform':
      return [{ kind: 'hrb', hrbLevel: 'province' }, { kind: 'committee' }];
    case 'hrb': {
      const below = HRB_BELOW[parent.hrbLevel ?? ''];
      const out: { kind: TreeKind; hrbLevel?: HrbLevel }[] = [];
      if (below) out.push({ kind: 'hrb', hrbLevel: below });
      out.push({ kind: 'committee' }, { kind: 'supervisor' });
      if (parent.hrbLevel === 'county') out.push({ kind: 'agency' }, { kind: 'unit' });
      return out;
    }
    case 'supervisor':
      return [{ kind: 'unit' }];
    default:
      return [];
  }
}

/** The refusal when `child` may not sit directly under `parent`, else null. */
export function childError(parent: TreeNode, child: TreeNode): string | null {
  const opts = childOptions(parent);
  if (!opts.length) return '该类型的机构不能创建下级机构';
  const kindOk = opts.filter((o) => o.kind === child.kind);
  if (!kindOk.length) return '只能创建下一级机构：该类型不能作为本机构的下级';
  if (child.kind === 'hrb' && !kindOk.some((o) => o.hrbLevel === child.hrbLevel)) return '只能创建下一级人社局（省→市→县区）';
  return null;
}

/**
 * Would making `newParent` the parent of `id` close a loop? True when newParent is id itself
 * or lies under it. `parentOf` maps every org id to its parent (null at a root).
 */
export function wouldCycle(parentOf: ReadonlyMap<number, number | null>, id: number, newParent: number): boolean {
  let cur: number | null | undefined = newParent;
  for (let guard = 0; cur != null && guard <= parentOf.size + 1; guard++) {
    if (cur === id) return true;
    cur = parentOf.get(cur);
  }
  return false;
}

/** Every id at or under `root` (the admin's subtree), root first. */
export function subtreeIds(parentOf: ReadonlyMap<number, number | null>, root: number): number[] {
  const children = new Map<number, number[]>();
  for (const [id, p] of parentOf) if (p != null) children.set(p, [...(children.get(p) ?? []), id]);
  const out: number[] = [];
  const seen = new Set<number>();
  const stack = [root];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(id);
    for (const c of (children.get(id) ?? []).slice().reverse()) stack.push(c);
  }
  return out;
}

export interface OrgContents { staff: number; people: number; declarations: number; children: number }

/** Why an organisation cannot be removed (seed 004: 下级组织机构为空时才可以注销), or null. */
export function removalError(c: OrgContents): string | null {
  const parts: string[] = [];
  if (c.staff) parts.push(`${c.staff} 个在用的工作人员账号（含管理员，请先注销）`);
  if (c.people) parts.push(`${c.people} 名专业技术人员`);
  if (c.declarations) parts.push(`${c.declarations} 份申报`);
  if (c.children) parts.push(`${c.children} 个下级机构`);
  return parts.length ? `该机构不能注销：还有${parts.join('、')}` : null;
}
