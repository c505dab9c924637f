import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { PASSWORD_HINT } from '../../domain/password.js';
import { newPasswordProblems } from '../auth/passwords.js';
import { hashPassword } from '../../lib/passwords.js';
import { compileForm } from '../../lib/forms.js';
import { startSession } from '../auth/routes.js';
import { checkSetupToken, createFirstAdmin } from './service.js';
import { audit } from '../audit/service.js';

const parse = compileForm<{ username: string; name: string; password: string; password2: string }>({
  type: 'object',
  properties: {
    username: { type: 'string', title: '用户名', maxLength: 32, pattern: '^[A-Za-z][A-Za-z0-9_.-]{2,31}$', errorMessage: '用户名为3–32位字母、数字、下划线，以字母开头' },
    name: { type: 'string', title: '姓名', maxLength: 50 },
    password: { type: 'string', title: '密码', maxLength: 64 },
    password2: { type: 'string', title: '确认密码', maxLength: 64 },
  },
  required: ['username', 'name', 'password', 'password2'],
});

/** First-start page that creates the platform admin from the one-time link in the log. */
export default async function setupRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  app.get('/setup/:token', async (req, reply) => {
    const { token } = req.params as { token: string };
    if (!(await checkSetupToken(ctx, token))) return reply.callNotFound();
    return reply.page('setup/setup.njk', { token, values: {}, errors: {}, passwordHint: PASSWORD_HINT });
  });

  app.post('/setup/:token', async (req, reply) => {
    const { token } = req.params as { token: string };
    if (!(await checkSetupToken(ctx, token))) return reply.callNotFound();
    const { values, errors } = parse(req.body);
    if (!errors.password && values.password) {
      const p = newPasswordProblems(values.password);
      if (p.length) errors.password = p.join('；');
      else if (values.password !== values.password2) errors.password2 = '两次输入的密码不一致';
    }
    if (!errors.username && values.username && (await ctx.db.selectFrom('users').select('id').where('username', '=', values.username).executeTakeFirst())) {
      errors.username = '用户名已存在';
    }
    if (Object.keys(errors).length) {
      return reply.page('setup/setup.njk', { token, values: { username: values.username, name: values.name }, errors, passwordHint: PASSWORD_HINT }, 422);
    }
    const id = await createFirstAdmin(ctx, token, { username: values.username, name: values.name, passwordHash: await hashPassword(values.password) });
    if (!id) return reply.callNotFound();
    await audit(ctx, req, { action: 'user_create', objectType: 'user', objectId: id, detail: `首次启动：创建系统管理员 ${values.username}`, actor: { id, kind: 'staff', name: values.name, username: values.username, roles: ['admin'] } });
    await startSession(req, id, ctx.config.now());
    return reply.flashRedirect('/admin', '系统管理员已创建。请在“用户管理”中创建安全管理员和审计管理员账号（三权分立）。');
  });
}
