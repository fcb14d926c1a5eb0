// pg_cron really calls the functions: a one-off copy of the amocrm-sync-pipelines job (same command, scoped
// to this test's account, every minute) runs within a minute, shows up in cron.job_run_details, and its
// pg_net request reaches the function on the functions host, which records a pipelines sync run.
import assert from "node:assert/strict";
import { startSimulator } from "../../../local/amocrm-simulator/mod.ts";
import { connectDb, connectSimulatedAccount } from "../../support/connected_account.ts";
import { eventually, FUNCTIONS_URL, NO_STACK } from "./_support.ts";

Deno.test({
  name: "pg_cron invokes a function: job run recorded, sync run written",
  ignore: NO_STACK,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const sql = connectDb();
    const sim = await startSimulator({ port: 0, seed: 5 });
    const account = await connectSimulatedAccount(sql, sim, { functionsUrl: FUNCTIONS_URL!, label: "cron" });
    // Not "amocrm-…": the pgTAP suite asserts the exact set of the project's schedules.
    const jobName = `schedules-test-${crypto.randomUUID().slice(0, 8)}`;
    const [real] = await sql`select command from cron.job where jobname = 'amocrm-sync-pipelines'`;
    assert.ok(real, "the real schedule exists");
    // The real job's command, scoped to this account so other tests' connections are left alone.
    const command = (real.command as string).replace(
      "'{}'",
      `'${JSON.stringify({ userAccountId: account.userAccountId })}'`,
    );
    assert.notEqual(command, real.command, "the command was scoped");
    try {
      const [{ jobid }] = await sql`select cron.schedule(${jobName}, '* * * * *', ${command}) as jobid`;
      const scheduledAt = new Date();

      // Up to a minute until the next run, and this pg_cron records a run's end only once the half-minute job's
      // 30 s sleep (amocrm-drain-queue-half-minute) is over: 60 + 30 s and a margin.
      const run = await eventually("the cron job to run", async () => {
        const [row] = await sql`
          select status, return_message from cron.job_run_details
          where jobid = ${jobid} and status in ('succeeded', 'failed') order by runid limit 1`;
        return row;
      }, 100_000);
      assert.equal(run.status, "succeeded", run.return_message);

      const syncRun = await eventually("the function's sync run", async () => {
        const [row] = await sql`
          select state, details from amocrm.sync_runs
          where user_account_id = ${account.userAccountId} and kind = 'pipelines' and started_at >= ${scheduledAt}
            and state <> 'running'`;
        return row;
      }, 15_000);
      assert.equal(syncRun.state, "done");
      assert.ok(Number(syncRun.details.stages) > 0, "it synced the simulator's stages");
    } finally {
      await sql`select cron.unschedule(jobname) from cron.job where jobname = ${jobName}`;
      await account.remove();
      await sim.stop();
      await sql.end();
    }
  },
});
