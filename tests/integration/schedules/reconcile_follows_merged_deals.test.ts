// amoCRM's duplicate control merges the product's incoming chat deal (in Unsorted) into the client's existing
// deal. Reconciliation sees the absorbed deal in the trash and the Events API's `entity_merged`; the product
// lead then follows the surviving deal: its stage, qualification and sale, so its creative keeps the credit.
import assert from "node:assert/strict";
import { startSimulator } from "../../../local/amocrm-simulator/mod.ts";
import { createAmoCrmClient } from "../../../supabase/functions/_shared/amocrm/mod.ts";
import {
  type BackfillCursor,
  runBackfillPage,
  startBackfill,
} from "../../../supabase/functions/_shared/jobs/backfill.ts";
import { reconcileAccount } from "../../../supabase/functions/_shared/jobs/reconcile.ts";
import { connectDb, connectSimulatedAccount } from "../../support/connected_account.ts";
import { FUNCTIONS_URL, NO_STACK } from "./_support.ts";

Deno.test({
  name: "a merged chat deal: the product lead follows the surviving deal (stage, qualification, sale)",
  ignore: NO_STACK,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const sql = connectDb();
    const sim = await startSimulator({ port: 0, seed: 88, timeScale: 1e6 });
    const account = await connectSimulatedAccount(sql, sim, {
      functionsUrl: FUNCTIONS_URL!,
      label: "merge",
      subscribe: false,
    });
    const acc = account.userAccountId;
    try {
      const client = createAmoCrmClient({ connectionId: account.connectionId, deps: { sql } });
      const [unsorted] = await sql<{ pipeline_id: number; status_id: number }[]>`
        select pipeline_id, status_id from public.amocrm_pipeline_stages
        where user_account_id = ${acc} and status_type = 1
          and pipeline_id = (select pipeline_id from public.amocrm_pipeline_stages
                             where user_account_id = ${acc} and is_qualified_stage order by pipeline_id limit 1)`;
      const [work] = await sql<{ status_id: number }[]>`
        select status_id from public.amocrm_pipeline_stages
        where user_account_id = ${acc} and pipeline_id = ${unsorted.pipeline_id} and status_type = 0
          and status_id not in (142, 143) order by sort_order limit 1`;
      // The client's existing deal, opened by a manager; then the product's chat deal lands in Unsorted.
      const existing = sim.createLead(account.subdomain, {
        pipelineId: unsorted.pipeline_id,
        statusId: work.status_id,
        phone: "+7 912 700-00-01",
      });
      sim.advanceTime(60);
      const chat = sim.createLead(account.subdomain, {
        pipelineId: unsorted.pipeline_id,
        statusId: unsorted.status_id,
        contactId: (existing as { _embedded: { contacts: { id: number }[] } })._embedded.contacts[0].id,
      });
      const chatId = Number(chat.id);
      const existingId = Number(existing.id);
      // An Instagram lead: the product knows no phone, only the deal it created.
      const [{ id: leadId }] = await sql<{ id: number }[]>`
        insert into public.leads (user_account_id, amocrm_lead_id) values (${acc}, ${chatId}) returning id::int`;

      const { runId } = await startBackfill(sql, acc);
      for (let i = 0; i < 20; i++) {
        const [run] = await sql<{ state: string; cursor: BackfillCursor }[]>`
          select state, cursor from amocrm.sync_runs where id = ${runId}`;
        if (run.state !== "running") break;
        await runBackfillPage(sql, client, acc, { run_id: runId, cursor: run.cursor });
      }
      const lead = async () =>
        (await sql<{ status: number; q: boolean }[]>`
          select current_status_id as status, is_qualified as q from public.leads where id = ${leadId}`)[0];
      assert.deepEqual(
        await lead(),
        { status: unsorted.status_id, q: false },
        "in Unsorted: a lead, not qualified",
      );

      sim.advanceTime(60);
      sim.mergeLeads(account.subdomain, existingId, chatId);
      sim.advanceTime(60);
      sim.winLead(account.subdomain, existingId, { price: 7000 });
      const report = await reconcileAccount(sql, client, acc, { mode: "incremental" });
      assert.equal(report.complete, true);

      assert.deepEqual(await lead(), { status: 142, q: true }, "the product lead follows the surviving deal");
      const sales = await sql<{ deal: number; lead: number; status: string; amount: number }[]>`
        select amocrm_deal_id::int as deal, lead_id::int as lead, status, amount::float as amount
        from public.sales where user_account_id = ${acc}`;
      assert.deepEqual(
        [...sales],
        [{ deal: existingId, lead: leadId, status: "paid", amount: 7000 }],
        "the survivor's sale is credited to the product lead",
      );
      const [{ n }] = await sql<
        { n: number }[]
      >`select count(*)::int as n from public.leads where user_account_id = ${acc}`;
      assert.equal(n, 1, "one lead, counted once");
    } finally {
      await account.remove();
      await sim.stop();
      await sql.end();
    }
  },
});
