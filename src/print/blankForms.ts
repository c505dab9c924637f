// 打印空白表格 (seed 004: “打印评审简表等有关空白表格”): the review form and the 评审简表 empty,
// for filling in by hand at a paper meeting or offline. Pure: the same view models as the filled
// ones (one template each), with every value blank and a few empty lines per row table.
import type { Snapshot } from '../features/declaration/service.js';
import { reviewFormModel, type ReviewFormModel } from './reviewForm.js';
import type { BriefDoc } from './brief.js';

/** Empty lines printed in each row table of the blank review form. */
export const BLANK_ROWS = 4;

const EMPTY: Snapshot = {
  cover: { year: 2000, plan_id: 0, committee: '', plan_name: '', specialty: '', level: '', level_name: '', title: '', category: '', category_name: '' },
  plan: { id: 0, name: '', year: 0, committee: '' },
  person: { name: '', gender: '', birth: '', idMasked: null, phoneMasked: null, unitName: null, unitId: null },
  profile: {}, photoFileId: null, sections: {}, attachments: [], route: [], takenAt: '',
};

export function blankReviewForm(pledge: string): ReviewFormModel {
  const m = reviewFormModel(EMPTY, { today: '', preview: false, pledge });
  return {
    ...m,
    cover: { ...m.cover, year: '' as unknown as number },
    tenure: { titleText: '', workText: '' },
    tables: m.tables.map((t) => ({ ...t, rows: Array.from({ length: BLANK_ROWS }, () => t.head.map(() => '')) })),
    summaries: [{ year: '', content: '\n\n\n\n' }],
  };
}

/** The 评审简表 with every line empty (five lines for 代表作及主要业绩). */
export function blankBrief(): BriefDoc {
  return {
    order: '' as unknown as number, group: '', name: '', gender: '', birth: '', unit: '', education: '', currentTitle: '', currentSince: '',
    titleYears: '', workYears: '', target: '', specialty: '', achievements: ['', '', '', '', ''], opinion: ' ',
  };
}
