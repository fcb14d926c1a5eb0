// Stages change in amoCRM (added, renamed, removed) and there is no webhook for it: the sync picks them up.
// Flags the user set survive, a removed stage is archived with its history intact, a new one arrives
// unflagged. Synced once through the amocrm-sync-pipelines handler and once the way the dashboard's button
// does it (public.request_pipeline_sync → sync_pipelines job → the worker on the functions host).
import assert from "node:assert/strict";
import { startSimulator } from "../../../local/amocrm-simulator/mod.ts";
import { createSyncPipelinesHandler } from "../../../supabase/functions/amocrm-sync-pipelines/handler.ts";
import { connectDb, connectSimulatedAccount, waitUntilSettled } from "../../support/connected_account.ts";
import {
  answerOf,
  clientForSql,
  eventually,
  FUNCTIONS_URL,
  NO_STACK,
  operatorRequest,
  operatorSecrets,
} from "./_support.ts";

Deno.test({
  name: "adding, renaming and removing stages then syncing keeps flags and history",
  ignore: NO_STACK,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const sql = connectDb();
    const sim = await startSimulator({ port: 0, seed: 12, timeScale: 1e6 });
    const account = await connectSimulatedAccount(sql, sim, {
      functionsUrl: FUNCTIONS_URL!,
      label: "stages",
    });
    const sync = createSyncPipelinesHandler({ sql, secrets: operatorSecrets, clientFor: clientForSql(sql) });
    const stage = async (statusId: number) => {
      const [row] = await sql`
        select status_name, is_qualified_stage, is_archived from public.amocrm_pipeline_stages
        where user_account_id = ${account.userAccountId} and status_id = ${statusId}`;
      return row;
    };
    try {
      const pipeline = sim.internalAccount(account.subdomain).pipelines[0];
      const [, talk, meeting] = pipeline.statuses; // unsorted, then the work stages
      // A deal passes through "talk" (history points at it), then moves on.
      const leadId = Number(
        sim.createLead(account.subdomain, { pipelineId: pipeline.id, statusId: talk.id }).id,
      );
      sim.advanceTime(60); // a later second, so the two transitions have an order
      sim.moveLead(account.subdomain, leadId, meeting.id);
      await sim.flushWebhooks({ fastForward: true });
      await waitUntilSettled(sql, account.userAccountId);
      await sql`update public.amocrm_pipeline_stages set is_qualified_stage = (status_id = ${meeting.id})
        where user_account_id = ${account.userAccountId} and pipeline_id = ${pipeline.id}`;
      const [{ qualified: qualifiedBefore }] = await sql`
        select is_qualified as qualified from public.amocrm_deals
        where user_account_id = ${account.userAccountId} and amocrm_lead_id = ${leadId}`;
      assert.equal(qualifiedBefore, true, "the deal reached the flagged stage");

      // In amoCRM: "talk" removed, "meeting" renamed, a new stage added.
      const newStatusId = 90_000_000 + Math.floor(Math.random() * 9_000_000);
      pipeline.statuses.splice(pipeline.statuses.indexOf(talk), 1);
      meeting.name = "Встреча (переименовано)";
      pipeline.statuses.splice(2, 0, { ...meeting, id: newStatusId, name: "Новый этап", sort: 25 });

      const answer = await answerOf(
        await sync(operatorRequest("amocrm-sync-pipelines", { userAccountId: account.userAccountId })),
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.result?.archived, 1, "one stage vanished");

      assert.deepEqual({ ...(await stage(talk.id)) }, {
        status_name: talk.name,
        is_qualified_stage: false,
        is_archived: true,
      }, "the removed stage is archived, not deleted");
      assert.deepEqual({ ...(await stage(meeting.id)) }, {
        status_name: "Встреча (переименовано)",
        is_qualified_stage: true,
        is_archived: false,
      }, "the renamed stage keeps its flag");
      assert.deepEqual({ ...(await stage(newStatusId)) }, {
        status_name: "Новый этап",
        is_qualified_stage: false,
        is_archived: false,
      }, "the new stage arrives unflagged");
      const history = await sql`
        select to_status_id from public.amocrm_lead_status_history
        where user_account_id = ${account.userAccountId} and amocrm_lead_id = ${leadId} order by changed_at`;
      assert.deepEqual(
        history.map((h) => h.to_status_id),
        [talk.id, meeting.id],
        "history still has the old stage",
      );
      const [{ qualified }] = await sql`
        select is_qualified as qualified from public.amocrm_deals
        where user_account_id = ${account.userAccountId} and amocrm_lead_id = ${leadId}`;
      assert.equal(qualified, true, "qualification is unchanged");

      // The dashboard's button: the stage comes back in amoCRM, the worker syncs it.
      pipeline.statuses.splice(1, 0, talk);
      const [{ runs: runsBefore }] = await sql`
        select count(*)::int as runs from amocrm.sync_runs
        where user_account_id = ${account.userAccountId} and kind = 'pipelines'`;
      await sql`select public.request_pipeline_sync(${account.userAccountId})`;
      await eventually("the worker's pipeline sync", async () => {
        const [{ runs }] = await sql`
          select count(*)::int as runs from amocrm.sync_runs
          where user_account_id = ${account.userAccountId} and kind = 'pipelines' and state = 'done'`;
        return runs > runsBefore ? runs : undefined;
      }, 30_000);
      assert.equal((await stage(talk.id)).is_archived, false, "a stage amoCRM shows again is active again");
    } finally {
      await account.remove();
      await sim.stop();
      await sql.end();
    }
  },
});
