import type { Agent, TestApp } from './app.js';
import { makePng } from './world.js';

/** A complete 基层单位意见 (表十二). */
export const OPINION = {
  evaluation: '该同志政治立场坚定，医德高尚，业务能力突出，任现职以来主持胸痛中心建设，成效显著。',
  method: '民主推荐',
  scope: '院职称推荐委员会委员15人',
  recommendation: '同意推荐',
  formation: '经院职称推荐委员会会议讨论，无记名投票，同意15票。',
  publicity: '',
};

export function multipart(fields: [string, string][], files: { name: string; filename: string; type: string; data: Buffer }[]) {
  const boundary = `----zc${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [k, v] of fields) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${f.name}"; filename="${f.filename}"\r\nContent-Type: ${f.type}\r\n\r\n`), f.data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

export const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
export const PLEDGE = { name: 'pledge', filename: 'pledge.png', type: 'image/png', data: makePng(120, 160, 3) };
export const REPORT = { name: 'report', filename: 'report.pdf', type: 'application/pdf', data: PDF };

/** The no-JS 推荐上报 form: multipart, the CSRF token its first field. */
export async function postRecommend(app: TestApp, agent: Agent, ids: number[], files: (typeof PLEDGE)[]) {
  await agent.get('/org/recommend');
  const { payload, contentType } = multipart([['_csrf', agent.csrf()], ...ids.map((id) => ['ids', String(id)] as [string, string])], files);
  const res = await app.app.inject({
    method: 'POST', url: '/org/recommend', payload,
    headers: { 'content-type': contentType, cookie: [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
  });
  if (String(res.headers['content-type'] ?? '').startsWith('text/html')) agent.lastHtml = res.body;
  return res;
}
