// "Has the integration caught up?": no stored webhook POST waits to be applied and no job is queued, running
// or backing off for the account. The demo waits on it before printing numbers; the tests before comparing.
import type postgres from "postgres";

/** Waits until the account's inbox and job queue are idle; false when the deadline passed first. */
export async function waitUntilSettled(
  sql: postgres.Sql,
  userAccountId: string,
  timeoutMs = 60_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [{ busy }] = await sql`
      select (select count(*) from amocrm.webhook_inbox where user_account_id = ${userAccountId} and state = 'received')
           + (select count(*) from amocrm.jobs where user_account_id = ${userAccountId}
              and state in ('queued', 'running', 'failed')) as busy`;
    if (Number(busy) === 0) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}
