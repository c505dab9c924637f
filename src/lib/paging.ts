/** 共 N 条, 10 条/页, 前往 page: the seeds' list footer. */
export interface Page<T> {
  rows: T[];
  total: number;
  page: number;
  pages: number;
  size: number;
}

export function pageParams(query: unknown, size = 10): { page: number; size: number; offset: number } {
  const raw = Number((query as Record<string, unknown> | undefined)?.page);
  const page = Number.isInteger(raw) && raw > 0 ? raw : 1;
  return { page, size, offset: (page - 1) * size };
}

export function makePage<T>(rows: T[], total: number, page: number, size: number): Page<T> {
  return { rows, total, page, size, pages: Math.max(1, Math.ceil(total / size)) };
}
