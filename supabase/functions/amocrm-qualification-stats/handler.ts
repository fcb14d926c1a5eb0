// amocrm-qualification-stats (operator): GET qualification-stats?userAccountId=&directionId=
// (docs/requirements.md: Step 4), answered by the analytics RPC public.qualification_stats — per creative: leads, qualified
// leads, qualification rate, conversions, conversion rate. The dashboard calls the RPC directly as the signed-in
// user (RLS); this endpoint is for admins and scripts with the service role key.
import { defaultSql, type Sql } from "../_shared/amocrm/mod.ts";
import type { OperatorSecrets } from "../_shared/ops/auth.ts";
import { NotFound, operatorEndpoint, optionalUuid, requiredUuid } from "../_shared/ops/endpoint.ts";

export interface QualificationStatsDeps {
  sql?: Sql;
  secrets: OperatorSecrets;
}

interface StatsRow {
  creative_id: string | null;
  creative_name: string | null;
  leads: string;
  qualified_leads: string;
  qualification_rate: string | null;
  conversions: string;
  conversion_rate: string | null;
}

const num = (value: string | null) => value === null ? null : Number(value);

export function createQualificationStatsHandler(deps: QualificationStatsDeps) {
  return operatorEndpoint("amocrm-qualification-stats", deps.secrets, async (params) => {
    const sql = deps.sql ?? defaultSql();
    const userAccountId = requiredUuid(params, "userAccountId");
    const directionId = optionalUuid(params, "directionId") ?? null;
    const [account] = await sql`select 1 from public.user_accounts where id = ${userAccountId}`;
    if (!account) throw new NotFound(`no user account ${userAccountId}`);
    if (directionId) {
      const [direction] = await sql`
        select 1 from public.directions where id = ${directionId} and user_account_id = ${userAccountId}`;
      if (!direction) throw new NotFound(`no direction ${directionId} in user account ${userAccountId}`);
    }
    const rows = await sql<StatsRow[]>`
      select creative_id, creative_name, leads::text, qualified_leads::text, qualification_rate::text,
             conversions::text, conversion_rate::text
      from public.qualification_stats(${userAccountId}::uuid, ${directionId}::uuid)`;
    return {
      userAccountId,
      directionId,
      creatives: rows.map((r) => ({
        creative_id: r.creative_id,
        creative_name: r.creative_name,
        leads: Number(r.leads),
        qualified_leads: Number(r.qualified_leads),
        qualification_rate: num(r.qualification_rate),
        conversions: Number(r.conversions),
        conversion_rate: num(r.conversion_rate),
      })),
    };
  });
}
