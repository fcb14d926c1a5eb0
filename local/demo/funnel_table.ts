// The per-creative funnel and ROI table, read the way a dashboard reads it: as a signed-in member, through
// RLS (PostgREST's impersonation: role authenticated + request.jwt.claims, inside one transaction).
import type postgres from "postgres";

export interface FunnelRow {
  creative_name: string | null;
  direction_name: string | null;
  leads: number;
  qualified_leads: number;
  qualification_rate: string | null;
  conversions: number;
  conversion_rate: string | null;
  revenue: string | null;
  spend: string | null;
  cpl: string | null;
  cpql: string | null;
  roi: string | null;
}

/** Runs `query` as the given auth user, exactly as PostgREST would for their JWT. */
export async function asUser<T>(
  sql: postgres.Sql,
  userId: string,
  query: (tx: postgres.TransactionSql) => Promise<T>,
) {
  return await sql.begin(async (tx) => {
    await tx`select set_config('role', 'authenticated', true),
      set_config('request.jwt.claims', ${JSON.stringify({ sub: userId, role: "authenticated" })}, true)`;
    return await query(tx);
  }) as T;
}

export async function creativeFunnel(
  sql: postgres.Sql,
  userId: string,
  userAccountId: string,
): Promise<FunnelRow[]> {
  return await asUser(sql, userId, (tx) =>
    tx<FunnelRow[]>`
      select creative_name, direction_name, leads::int, qualified_leads::int, qualification_rate::text,
        conversions::int, conversion_rate::text, revenue::text, spend::text, cpl::text, cpql::text, roi::text
      from public.creative_funnel(${userAccountId})
      order by direction_name nulls last, creative_name nulls last`);
}

const money = (v: string | null) => v === null ? "—" : Math.round(Number(v)).toLocaleString("en-US");
const pct = (v: string | null) => v === null ? "—" : `${Number(v).toFixed(1)}%`;

/** Fixed-width text table; totals in the last line add up from the rows above. */
export function renderFunnel(rows: FunnelRow[]): string {
  const header = [
    "direction",
    "creative",
    "leads",
    "qualified",
    "qual %",
    "sales",
    "conv %",
    "revenue",
    "spend",
    "CPL",
    "CPQL",
    "ROI",
  ];
  const body = rows.map((r) => [
    r.direction_name ?? "(none)",
    r.creative_name ?? "(no creative)",
    String(r.leads),
    String(r.qualified_leads),
    pct(r.qualification_rate),
    String(r.conversions),
    pct(r.conversion_rate),
    money(r.revenue),
    money(r.spend),
    money(r.cpl),
    money(r.cpql),
    pct(r.roi),
  ]);
  const sum = (f: (r: FunnelRow) => number) => rows.reduce((a, r) => a + f(r), 0);
  const totals = [
    "total",
    "",
    String(sum((r) => r.leads)),
    String(sum((r) => r.qualified_leads)),
    "",
    String(sum((r) => r.conversions)),
    "",
    money(String(sum((r) => Number(r.revenue ?? 0)))),
    money(String(sum((r) => Number(r.spend ?? 0)))),
    "",
    "",
    "",
  ];
  const all = [header, ...body, totals];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ");
  const rule = widths.map((w) => "─".repeat(w)).join("  ");
  return [line(header), rule, ...body.map(line), rule, line(totals)].join("\n");
}
