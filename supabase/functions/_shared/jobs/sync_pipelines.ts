// sync_pipelines: GET /api/v4/leads/pipelines → public.amocrm_pipeline_stages (flags kept, vanished stages
// archived), and GET /api/v4/account → the account's currency and time zone, recorded as a sync run.
import type { AmoCrmClient, Sql } from "../amocrm/mod.ts";
import { syncAccountSettings } from "./account_settings.ts";

export async function syncPipelines(sql: Sql, client: AmoCrmClient, userAccountId: string) {
  const [{ id: runId }] = await sql`select private.start_sync_run(${userAccountId}, 'pipelines') as id`;
  try {
    const pipelines = await client.getPipelines();
    const [{ result }] = await sql`
      select private.sync_pipeline_stages(${userAccountId}, ${sql.json(pipelines as never)}) as result`;
    const account = await syncAccountSettings(sql, client, userAccountId);
    const details = { pipelines: pipelines.length, ...result, account };
    await sql`select private.finish_sync_run(${runId}, null, ${sql.json(details)})`;
    return details;
  } catch (error) {
    await sql`select private.finish_sync_run(${runId}, ${String(error)})`;
    throw error;
  }
}
