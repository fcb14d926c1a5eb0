// `npm run report`: the per-creative funnel and ROI table of a user account, read as one of its members
// through RLS. Defaults to the demo user and account from supabase/seed.sql.
// Usage: npm run report -- [--user-account <uuid>] [--user <auth user uuid or email>] [--db-url <url>]
import { parseArgs } from "node:util";
import postgres from "postgres";
import { creativeFunnel, renderFunnel } from "./funnel_table.ts";

const { values } = parseArgs({
  options: {
    "user-account": { type: "string", default: "00000000-0000-4000-8000-0000000000a1" },
    user: { type: "string", default: "demo@amo-roi.local" },
    "db-url": { type: "string", default: "postgresql://postgres:postgres@127.0.0.1:54322/postgres" },
  },
});

const sql = postgres(values["db-url"]!, { prepare: false, max: 1, onnotice: () => {} });
try {
  const [user] = await sql<{ id: string; email: string }[]>`
    select id, email from auth.users where id::text = ${values.user!} or email = ${values.user!}`;
  if (!user) throw new Error(`no auth user ${values.user}`);
  const [account] = await sql<
    { name: string }[]
  >`select name from public.user_accounts where id = ${values["user-account"]!}`;
  const rows = await creativeFunnel(sql, user.id, values["user-account"]!);
  console.log(
    `Funnel and ROI per creative — ${
      account?.name ?? values["user-account"]
    } (as ${user.email}, through RLS)\n`,
  );
  console.log(rows.length ? renderFunnel(rows) : "(no rows: this user sees no leads in that account)");
} catch (error) {
  console.error(`report failed: ${error instanceof Error ? error.message : error}`);
  Deno.exitCode = 1;
} finally {
  await sql.end();
}
