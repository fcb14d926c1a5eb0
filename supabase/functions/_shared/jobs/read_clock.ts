// When an API read began, on the database's clock. Deletion is ordered by comparing this with when a
// delete/restore webhook was stored (private.observe_deletion), so both sides must come from the same clock:
// the function's host and the database are different machines.
import type { Sql } from "../amocrm/mod.ts";

export async function readStartedAt(sql: Sql): Promise<Date> {
  const [{ now }] = await sql<{ now: Date }[]>`select clock_timestamp() as now`;
  return now;
}
