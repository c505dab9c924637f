/**
 * CPU and memory of processes, read from /proc (Linux): the bench server's process tree and the
 * PostgreSQL server's processes (bench/load.ts, bench/scale.ts).
 */
import fs from 'node:fs';

/** Resident memory and CPU ticks of a process, from /proc (Linux). */
function procStats(pid: number): { rssKb: number; cpuTicks: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0), cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}
export const CLK_TCK = 100;

/** CPU ticks of every PostgreSQL process on this machine (postmaster, backends, writers): the database's share. */
export function postgresTicks(): number {
  let ticks = 0;
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks;
}

/** The server and every process under it (cluster workers, their esbuild helpers): summed. */
export function treeStats(pid: number): { rssKb: number; cpuTicks: number } | null {
  const root = procStats(pid);
  if (!root) return null;
  let rssKb = root.rssKb;
  let cpuTicks = root.cpuTicks;
  const children = (p: number): number[] => {
    try {
      return fs.readdirSync(`/proc/${p}/task`).flatMap((t) => fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      return [];
    }
  };
  const todo = children(pid);
  while (todo.length) {
    const c = todo.pop()!;
    const st = procStats(c);
    if (st) {
      rssKb += st.rssKb;
      cpuTicks += st.cpuTicks;
    }
    todo.push(...children(c));
  }
  return { rssKb, cpuTicks };
}
