// The amoCRM account's currency and time zone are read at every pipeline sync (GET /api/v4/account
// ?with=datetime_settings) and kept on the connection. When the admin changes the zone in amoCRM, the next sync
// moves the account's analytics days to it: a lead created at 21:30 UTC on 30 Nov is on 1 Dec in Moscow and
// still on 30 Nov in Lisbon — unless the user account picked a zone of its own.
import assert from "node:assert/strict";
import { startSimulator } from "../../../local/amocrm-simulator/mod.ts";
import { createSyncPipelinesHandler } from "../../../supabase/functions/amocrm-sync-pipelines/handler.ts";
import { connectDb, connectSimulatedAccount } from "../../support/connected_account.ts";
import {
  answerOf,
  clientForSql,
  FUNCTIONS_URL,
  NO_STACK,
  operatorRequest,
  operatorSecrets,
} from "./_support.ts";

Deno.test({
  name: "every pipeline sync re-reads the account's currency and zone; a new zone moves analytics days",
  ignore: NO_STACK,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const sql = connectDb();
    const sim = await startSimulator({ port: 0, seed: 31, timeScale: 1e6 });
    const account = await connectSimulatedAccount(sql, sim, {
      functionsUrl: FUNCTIONS_URL!,
      label: "account settings",
      currency: "RUB",
      timezone: "Europe/Moscow",
    });
    const sync = createSyncPipelinesHandler({ sql, secrets: operatorSecrets, clientFor: clientForSql(sql) });
    const settings = async () => {
      const [row] = await sql`
        select account_currency, account_currency_symbol, account_timezone from amocrm.connections
        where user_account_id = ${account.userAccountId}`;
      return { ...row };
    };
    const leadDays = async () =>
      (await sql`
        select day::text, leads from private.analytics_lead_daily
        where user_account_id = ${account.userAccountId} and leads > 0 order by day`).map((r) => ({ ...r }));
    try {
      assert.deepEqual(await settings(), {
        account_currency: "RUB",
        account_currency_symbol: "₽",
        account_timezone: "Europe/Moscow",
      }, "the first sync read them");
      await sql`
        insert into public.leads (user_account_id, phone, created_at)
        values (${account.userAccountId}, '+79000000301', '2026-11-30 21:30+00')`;
      assert.deepEqual(await leadDays(), [{ day: "2026-12-01", leads: 1 }], "00:30 in Moscow is 1 Dec");

      // The admin moves the account to Lisbon and to euros in amoCRM; no webhook says so.
      const internal = sim.internalAccount(account.subdomain);
      internal.timezone = "Europe/Lisbon";
      internal.currency = "EUR";
      internal.currencySymbol = "€";
      const answer = await answerOf(
        await sync(operatorRequest("amocrm-sync-pipelines", { userAccountId: account.userAccountId })),
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(await settings(), {
        account_currency: "EUR",
        account_currency_symbol: "€",
        account_timezone: "Europe/Lisbon",
      }, "the sync kept the new ones");
      assert.deepEqual(
        await leadDays(),
        [{ day: "2026-11-30", leads: 1 }],
        "21:30 in Lisbon is still 30 Nov",
      );

      // A zone the user account chose wins over amoCRM's, and survives the next sync.
      await sql`update public.user_accounts set analytics_timezone = 'Asia/Almaty' where id = ${account.userAccountId}`;
      internal.timezone = "Europe/Moscow";
      await answerOf(
        await sync(operatorRequest("amocrm-sync-pipelines", { userAccountId: account.userAccountId })),
      );
      assert.equal((await settings()).account_timezone, "Europe/Moscow");
      assert.deepEqual(await leadDays(), [{ day: "2026-12-01", leads: 1 }], "02:30 in Almaty is 1 Dec");
    } finally {
      await account.remove();
      await sim.stop();
      await sql.end();
    }
  },
});
