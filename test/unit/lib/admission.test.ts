import t from 'tap';
import { LagAdmission } from '../../../src/lib/admission.js';

// A scenario on a simulated clock: requests arriving evenly over `ms` (the sampler runs every
// 50 ms meanwhile, on time), or one sample that comes `lag` ms late (the loop was blocked).
type Step = { arrive: number; ms: number } | { lag: number };
const SAMPLE = 50;

/** Plays the steps on a fresh controller (limit 200 ms, at least 20/s); returns the admitted count of each arrival step. */
function play(steps: Step[]): { admitted: number[]; rule: LagAdmission } {
  let now = 0;
  let nextSample = SAMPLE;
  const rule = new LagAdmission(200, now);
  const admitted: number[] = [];
  for (const s of steps) {
    if ('lag' in s) {
      now = nextSample + s.lag;
      rule.sample(s.lag, SAMPLE + s.lag);
      nextSample = now + SAMPLE;
      continue;
    }
    let n = 0;
    for (let i = 1; i <= s.arrive; i++) {
      const at = now + (s.ms * i) / s.arrive;
      while (nextSample <= at) {
        rule.sample(0, SAMPLE);
        nextSample += SAMPLE;
      }
      if (rule.admit(at)) n++;
    }
    now += s.ms;
    admitted.push(n);
  }
  return { admitted, rule };
}

type Range = number | [number, number];
const cases: { name: string; steps: Step[]; admitted: Range[]; budget: 'open' | [number, number] }[] = [
  {
    name: 'no lag: no limit at all',
    steps: [{ arrive: 1000, ms: 1000 }, { arrive: 1000, ms: 100 }],
    admitted: [1000, 1000], budget: 'open',
  },
  {
    name: 'lag within the limit: no limit',
    steps: [{ arrive: 400, ms: 1000 }, { lag: 190 }, { arrive: 400, ms: 100 }],
    admitted: [400, 400], budget: 'open',
  },
  {
    // 400/s admitted, then one sample 300 ms late: half of the smoothed admitted rate (decayed
    // by the late sample that saw none: 280/s) → 140/s; a burst right after gets 200 ms worth
    // (28) at once, the rest is refused.
    name: 'a flood: the rate is halved from what was admitted, a burst is cut',
    steps: [{ arrive: 400, ms: 1000 }, { lag: 300 }, { arrive: 400, ms: 10 }],
    admitted: [400, [27, 30]], budget: [135, 150],
  },
  {
    name: 'lagging again and again: halved each time, never below the floor',
    steps: [{ arrive: 400, ms: 1000 }, { lag: 300 }, { lag: 300 }, { lag: 300 }, { lag: 300 }, { lag: 300 }, { lag: 300 }, { lag: 300 }, { lag: 300 }, { arrive: 400, ms: 10 }],
    admitted: [400, 20], budget: [20, 20],
  },
  {
    // Flooded at 4000/s after the lag: the budget (140/s) grows 5 % per calm sample, 2.6× a second.
    name: 'still flooded: limited while the budget grows back',
    steps: [{ arrive: 400, ms: 1000 }, { lag: 300 }, { arrive: 4000, ms: 1000 }],
    admitted: [400, [220, 300]], budget: [340, 400],
  },
  {
    name: 'the flood is over: open again once the budget is well above what arrives',
    steps: [{ arrive: 400, ms: 1000 }, { lag: 300 }, { arrive: 20, ms: 1000 }, { arrive: 100, ms: 100 }],
    admitted: [400, 20, 100], budget: 'open',
  },
  {
    // A quiet server with one slow moment (an export): its few visitors keep getting in.
    name: 'a single stall on a quiet server: the few visitors pass, open again at once',
    steps: [{ arrive: 3, ms: 1000 }, { lag: 800 }, { arrive: 8, ms: 20 }, { arrive: 5, ms: 100 }, { arrive: 4, ms: 300 }],
    admitted: [3, 8, 5, 4], budget: 'open',
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const { admitted, rule } = play(c.steps);
    t.equal(admitted.length, c.admitted.length);
    c.admitted.forEach((want, i) => {
      const [lo, hi] = typeof want === 'number' ? [want, want] : want;
      t.ok(admitted[i]! >= lo && admitted[i]! <= hi, `arrival step ${i + 1}: ${admitted[i]} admitted, want ${lo === hi ? lo : `${lo}–${hi}`}`);
    });
    if (c.budget === 'open') t.equal(rule.budget, Infinity, 'no limit');
    else t.ok(rule.budget >= c.budget[0] && rule.budget <= c.budget[1], `budget ${rule.budget.toFixed(1)}/s within ${c.budget.join('–')}`);
  });
}
