// Token keep-alive: an OAuth connection idle for 40 days gets a fresh pair (its refresh token would die at
// three months of disuse); one refreshed recently is left alone. Each refresh is a keepalive sync run.
import assert from "node:assert/strict";
import { createKeepAliveHandler } from "../../../supabase/functions/amocrm-token-keepalive/handler.ts";
import { NO_DATABASE } from "../amocrm-client/_db.ts";
import { withAccount } from "../amocrm-client/_setup.ts";
import { answerOf, operatorRequest, operatorSecrets } from "./_support.ts";

Deno.test({
  name: "token keep-alive refreshes an idle OAuth connection once",
  ignore: NO_DATABASE,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withAccount({ connection: { tokenRefreshedAt: new Date(Date.now() - 40 * 86_400_000) } }, async (env) => {
      const [{ user_account_id: userAccountId, access_token: before }] = await env.sql`
        select user_account_id, access_token from amocrm.connections where id = ${env.connectionId}`;
      const keepAlive = createKeepAliveHandler({ sql: env.sql, secrets: operatorSecrets });
      const run = async () => {
        const answer = await answerOf(
          await keepAlive(operatorRequest("amocrm-token-keepalive", { userAccountId })),
        );
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        return answer.body.result as { checked: number; refreshed: string[] };
      };

      const first = await run();
      assert.deepEqual(
        [first.checked, first.refreshed],
        [1, [env.connectionId]],
        "the idle connection is refreshed",
      );
      const [after] = await env.sql`
        select access_token, token_refreshed_at > now() - interval '1 minute' as fresh
        from amocrm.connections where id = ${env.connectionId}`;
      assert.notEqual(after.access_token, before, "a new access token is stored");
      assert.equal(after.fresh, true);

      const second = await run();
      assert.equal(second.checked, 0, "a connection refreshed today is not idle");

      const runs = await env.sql`
        select state, details ->> 'outcome' as outcome from amocrm.sync_runs
        where user_account_id = ${userAccountId} and kind = 'keepalive'`;
      assert.deepEqual(runs.map((r) => `${r.state}:${r.outcome}`), ["done:refreshed"]);
    }),
});
