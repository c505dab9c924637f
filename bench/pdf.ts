/**
 * bench/pdf — time per PDF of 专业技术职称申报评审表 through the real route (GET
 * /me/records/:id/pdf, app.inject), with a warm browser: median for a light declaration (the
 * demo archive) and a heavy one (30 rows in every section, 2000-character summaries), then
 * throughput at PDF_CONCURRENCY 1, 2 and 4. Needs an installed Chromium (CHROMIUM_PATH or
 * auto-detected). Not a test: it asserts nothing.
 *
 * Usage: node --import tsx bench/pdf.ts [runs=7] [jobs=8]
 */
import os from 'node:os';
import { makeApp, Agent, login, type TestApp } from '../test/helpers/app.js';
import { kunming, readyApplicant, declareThroughUi, submitThroughUi, type World } from '../test/helpers/world.js';
import { SECTIONS } from '../src/domain/sections.js';
import { findBrowser } from '../src/print/browser.js';

const RUNS = Number(process.argv[2] ?? 7);
const JOBS = Number(process.argv[3] ?? 8);

const long = (n: number, seed: string) => {
  const base = `${seed}坚持以病人为中心，规范诊疗流程，开展新技术新项目，指导下级医师，参与科室质量管理与教学查房。`;
  return [...base.repeat(Math.ceil(n / base.length))].slice(0, n).join('');
};

/** 30 plausible rows for every section (inserted directly: the bench is not about validation). */
function heavyRow(key: string, i: number): Record<string, string> {
  const y = 1990 + i;
  const d = (m: number) => `${y}-${String(m).padStart(2, '0')}-01`;
  const rows: Record<string, Record<string, string>> = {
    titles: { cert_no: `ZS${y}${i}`, specialty: '临床医学', title_name: '卫生技术 - 医师', acquisition: '申报评审', committee: '昆明市卫生技术高级职称评审委员会', certified_on: d(9), approval_doc: `昆人社〔${y}〕${i}号`, employed: '否' },
    educations: { education: '大学本科', degree: '学士', school: '昆明医科大学', major: '临床医学', start: d(9), end: d(7), study_form: '全日制', cert_no: `1067${y}${i}` },
    study: { school: `昆明医科大学第${i}学院`, major: '临床医学', start: d(3), end: d(7), witness: '王建国', duty: '无' },
    work: { unit_name: `昆明市第一人民医院心血管内科第${i}病区`, specialty: '临床医学', start: d(1), end: d(12), witness: '李娜', duty: '主治医师' },
    summaries: { year: String(y), content: long(2000, `${y}年度：`) },
    'main-works': { start: d(1), end: d(12), duty: '负责人', content: long(500, '主要工作：'), effect: long(200, '成效：') },
    projects: { start: d(1), end: d(12), name: `急性胸痛规范化诊疗体系研究第${i}期`, source: '省部级', role: '主持', status: '已结题' },
    ip: { name: `一种便携式心电监测装置${i}`, number: `ZL${y}1000${i}`, category: '实用新型专利', approved_on: d(6), rank: '1' },
    awards: { name: `云南省卫生科技成果奖${i}`, type: '科技奖励', grade: '二等奖', level: '省级', approved_on: d(11), authority: '云南省卫生健康委员会', rank: '2', task: long(200, '承担任务：') },
    books: { title: `心血管介入治疗学第${i}卷`, published_on: d(5), type: '专著', level: '国家级', part: '第二章', publisher: '人民卫生出版社' },
    papers: { title: `急性心肌梗死患者介入治疗后的康复管理研究之${i}`, journal: '中国实用医刊', published_on: d(5), issn: 'ISSN 1674-4756', type: '期刊论文', level: '核心期刊', part: '第一作者' },
    ce: { start: d(3), end: d(4), name: `心血管介入培训班${i}`, organizer: '中华医学会', place: '北京', content: long(200, '学习内容：'), hours: '40' },
    assessments: { year: String(y), grade: '合格', leader: '李娜' },
  };
  return rows[key]!;
}

async function declaration(app: TestApp, w: World, o: { name: string; seq: string; phone: string; heavy: boolean }) {
  const a = await readyApplicant(app, w.unit, o);
  if (o.heavy) {
    const stamp = app.clock.now().toISOString();
    for (const s of SECTIONS) {
      for (let i = 1; i <= 30; i++) {
        await app.ctx.db.insertInto('section_rows').values({ user_id: a.userId, section: s.key, position: 1000 + i, data: JSON.stringify(heavyRow(s.key, i)), created_at: stamp, updated_at: stamp }).execute();
      }
    }
  }
  const agent = new Agent(app);
  await login(agent, 'applicant', a.phone);
  const id = await declareThroughUi(app, agent, w, a.userId);
  await submitThroughUi(agent, id);
  const d = await app.ctx.db.selectFrom('declarations').select('route').where('id', '=', id).executeTakeFirstOrThrow();
  await app.ctx.db.updateTable('declarations').set({ status: 'approved', stage: JSON.parse(d.route!).length - 1 }).where('id', '=', id).execute();
  return { id, agent };
}

/** One PDF; `fresh`: the kept copy is dropped first, so Chromium renders it (the path before issue #18). */
async function pdf(agent: Agent, id: number, fresh = true): Promise<{ ms: number; bytes: number; pages: number }> {
  if (fresh) await agent.t.ctx.db.deleteFrom('pdf_cache').where('declaration_id', '=', id).execute();
  const t0 = performance.now();
  const res = await agent.get(`/me/records/${id}/pdf`);
  const ms = performance.now() - t0;
  if (res.statusCode !== 200) throw new Error(`PDF ${res.statusCode}: ${res.body.slice(0, 200)}`);
  const pages = (res.rawPayload.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
  return { ms, bytes: res.rawPayload.length, pages };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main() {
  const browser = findBrowser(process.env.CHROMIUM_PATH || undefined);
  if (!browser) {
    console.error('No Chromium/Chrome/Edge found (set CHROMIUM_PATH or apt-get install chromium)');
    process.exit(1);
  }
  console.log(`bench/pdf — ${browser}, ${os.cpus().length} CPU cores, Node ${process.version}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const results: string[] = [];
  for (const concurrency of [1, 2, 4]) {
    const app = await makeApp({ chromiumPath: browser, pdfConcurrency: concurrency, pdfQueueMax: 100, pdfTimeoutMs: 170_000 });
    try {
      const w = await kunming(app);
      const light = await declaration(app, w, { name: '张伟', seq: '231', phone: '13800138000', heavy: false });
      const heavy = await declaration(app, w, { name: '王芳', seq: '342', phone: '13800138001', heavy: true });
      // Warm: the browser launches and every page of the pool decodes the font once.
      const cold = await pdf(light.agent, light.id);
      await Promise.all(Array.from({ length: concurrency }, () => pdf(light.agent, light.id)));
      if (concurrency === 1) {
        console.log(`first PDF (browser launch + font decode): ${cold.ms.toFixed(0)} ms`);
        for (const [label, d] of [['light', light], ['heavy', heavy]] as const) {
          const runs = [];
          for (let i = 0; i < RUNS; i++) runs.push(await pdf(d.agent, d.id));
          const m = median(runs.map((r) => r.ms));
          const line = `${label}: median ${m.toFixed(0)} ms per PDF over ${RUNS} runs (min ${Math.min(...runs.map((r) => r.ms)).toFixed(0)}, max ${Math.max(...runs.map((r) => r.ms)).toFixed(0)}), ${runs[0]!.pages} pages, ${(runs[0]!.bytes / 1024).toFixed(0)} KB`;
          console.log(line);
          results.push(line);
          // Issue #18: the same form again, as users ask for it — served from the kept copy.
          await pdf(d.agent, d.id, false);
          const hits = [];
          for (let i = 0; i < RUNS; i++) hits.push(await pdf(d.agent, d.id, false));
          const kept = `${label}, kept (rendered once): median ${median(hits.map((r) => r.ms)).toFixed(1)} ms per PDF over ${RUNS} runs (max ${Math.max(...hits.map((r) => r.ms)).toFixed(1)})`;
          console.log(kept);
          results.push(kept);
        }
      }
      for (const [label, d] of [['light', light], ['heavy', heavy]] as const) {
        const n = label === 'light' ? JOBS : Math.max(concurrency, Math.ceil(JOBS / 2));
        // Uncached: all n start before any is kept, so each is rendered.
        await app.ctx.db.deleteFrom('pdf_cache').execute();
        const t0 = performance.now();
        await Promise.all(Array.from({ length: n }, () => pdf(d.agent, d.id, false)));
        const s = (performance.now() - t0) / 1000;
        const line = `concurrency ${concurrency}: ${label} ${n} PDFs in ${s.toFixed(1)} s → ${(n / s).toFixed(2)} PDF/s`;
        console.log(line);
        results.push(line);
        if (label === 'heavy') {
          await pdf(d.agent, d.id, false);
          const m = 15; // one account: MAX_USER_INFLIGHT (16) requests at once
          const t1 = performance.now();
          await Promise.all(Array.from({ length: m }, () => pdf(d.agent, d.id, false)));
          const s1 = (performance.now() - t1) / 1000;
          const keptLine = `concurrency ${concurrency}: heavy, kept: ${m} PDFs in ${s1.toFixed(2)} s → ${(m / s1).toFixed(0)} PDF/s`;
          console.log(keptLine);
          results.push(keptLine);
        }
      }
    } finally {
      await app.close();
    }
  }
}

await main();
