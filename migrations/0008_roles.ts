import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../src/db/index.js';

// 三权分立 (GB/T 22239 level 3): separate system / security / audit administrators ('admin',
// 'security', 'audit' in users.roles), a permission list per user (users.permissions, e.g.
// 'reveal_pii'), and what the security admin needs to see and end a user's sessions.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('permissions', 'text', (c) => c.notNull().defaultTo('')).execute();
  await db.schema.alterTable('sessions').addColumn('ip', 'text').execute();
  await db.schema.alterTable('sessions').addColumn('user_agent', 'text').execute();
  await db.schema.alterTable('sessions').addColumn('last_seen_at', 'text').execute();

  // Before the triggers: an account that was given two platform roles (the interim admin screen
  // allowed 'admin,audit') keeps the first of system > security > audit and loses the others.
  const has = (role: string) => sql<boolean>`(',' || roles || ',') like ${`%,${role},%`}`;
  await sql`update users set roles = trim(replace(replace(',' || roles || ',', ',security,', ','), ',audit,', ','), ',')
            where ${has('admin')} and (${has('security')} or ${has('audit')})`.execute(db);
  await sql`update users set roles = trim(replace(',' || roles || ',', ',audit,', ','), ',')
            where ${has('security')} and ${has('audit')}`.execute(db);

  // The database itself refuses an account holding two of the three, whatever code writes it.
  const message = '三权分立：同一账号不能同时担任系统管理员、安全管理员、审计管理员中的两个角色';
  if (dialectOf(db) === 'postgres') {
    const count = ['admin', 'security', 'audit'].map((r) => `((',' || NEW.roles || ',') like '%,${r},%')::int`).join(' + ');
    await sql.raw(`create function users_separation() returns trigger language plpgsql as $$
      begin
        if ${count} > 1 then raise exception '${message}'; end if;
        return NEW;
      end $$`).execute(db);
    await sql`create trigger users_separation_insert before insert on users for each row execute function users_separation()`.execute(db);
    await sql`create trigger users_separation_update before update of roles on users for each row execute function users_separation()`.execute(db);
    return;
  }
  const two = (ref: 'NEW') => sql.raw(
    ['admin', 'security', 'audit'].map((r) => `((',' || ${ref}.roles || ',') like '%,${r},%')`).join(' + ') + ' > 1',
  );
  for (const [name, event] of [['users_separation_insert', 'INSERT'], ['users_separation_update', 'UPDATE OF roles']] as const) {
    await sql`create trigger ${sql.raw(name)} before ${sql.raw(event)} on users
              when ${two('NEW')}
              begin select raise(abort, ${sql.raw(`'${message}'`)}); end`.execute(db);
  }
}
