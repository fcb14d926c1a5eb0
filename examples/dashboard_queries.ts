// The queries a dashboard makes with supabase-js, typed by the generated schema. Every read runs as the
// signed-in user: RLS on the base tables scopes it to the user accounts they belong to. `deno check` (part of
// `npm test`) type-checks this file against supabase/functions/_shared/database.types.ts, so a renamed column
// or RPC argument breaks the build instead of the dashboard.
import { createClient } from "@supabase/supabase-js";
import type { Database } from "../supabase/functions/_shared/database.types.ts";

export function dashboardClient(supabaseUrl: string, anonKey: string) {
  // After sign-in supabase-js sends the user's JWT; the anon key alone sees nothing.
  return createClient<Database>(supabaseUrl, anonKey);
}

type Dashboard = ReturnType<typeof dashboardClient>;

/**
 * Funnel and ROI per creative for a range of local days (the account's zone); omit the dates for all time.
 * basis "lead_date": what the range's leads brought (a cohort); "sale_date": what was sold in the range.
 */
export async function creativeFunnel(
  db: Dashboard,
  userAccountId: string,
  from?: string,
  to?: string,
  basis: "lead_date" | "sale_date" = "lead_date",
) {
  const { data, error } = await db.rpc("creative_funnel", {
    p_user_account_id: userAccountId,
    p_from: from,
    p_to: to,
    p_basis: basis,
  });
  if (error) throw error;
  return data; // leads, …, revenue, spend, cpl, cpql, cpa, roi in cost_currency, roi_null_reason
}

/** Median days from lead to first paid sale, per creative or per direction (same range and bases). */
export async function timeToSale(
  db: Dashboard,
  userAccountId: string,
  per: "creative" | "direction",
  from?: string,
  to?: string,
  basis: "lead_date" | "sale_date" = "lead_date",
) {
  const { data, error } = await db.rpc("time_to_sale", {
    p_user_account_id: userAccountId,
    p_from: from,
    p_to: to,
    p_per: per,
    p_basis: basis,
  });
  if (error) throw error;
  return data; // creative_id / direction_id, converted_leads, time_to_sale_days
}

/** What was sold in a period: per-creative revenue by sale date + unattributed = amoCRM's won total. */
export async function soldInPeriod(db: Dashboard, userAccountId: string, from: string, to: string) {
  const [creatives, totals] = await Promise.all([
    creativeFunnel(db, userAccountId, from, to, "sale_date"),
    db.rpc("revenue_totals", { p_user_account_id: userAccountId, p_from: from, p_to: to }).maybeSingle(),
  ]);
  if (totals.error) throw totals.error;
  return { creatives, totals: totals.data }; // totals: paid, attributed, unattributed, amoCRM won, currency
}

/** The account's analytics time zone (null = its amoCRM account's); changing it rebuilds the numbers. */
export async function setAnalyticsTimeZone(db: Dashboard, userAccountId: string, timeZone: string | null) {
  const { error } = await db.from("user_accounts").update({ analytics_timezone: timeZone }).eq(
    "id",
    userAccountId,
  );
  if (error) throw error;
}

/** The same per direction, and a by-day series for charts. */
export async function directionFunnelAndDaily(
  db: Dashboard,
  userAccountId: string,
  from: string,
  to: string,
) {
  const [directions, daily] = await Promise.all([
    db.rpc("direction_funnel", { p_user_account_id: userAccountId, p_from: from, p_to: to }),
    db.rpc("funnel_daily", { p_user_account_id: userAccountId, p_from: from, p_to: to }),
  ]);
  if (directions.error) throw directions.error;
  if (daily.error) throw daily.error;
  return { directions: directions.data, daily: daily.data };
}

/** qualification-stats?userAccountId=…&directionId=… (docs/requirements.md: Step 4). */
export async function qualificationStats(db: Dashboard, userAccountId: string, directionId?: string) {
  const { data, error } = await db.rpc("qualification_stats", {
    p_user_account_id: userAccountId,
    p_direction_id: directionId,
  });
  if (error) throw error;
  return data;
}

/** All-time views: one row per creative of every account the user can see. */
export async function allTimeByCreative(db: Dashboard) {
  const { data, error } = await db.from("creative_funnel_stats").select("*").order("revenue", {
    ascending: false,
  });
  if (error) throw error;
  return data;
}

/** Stage funnel of a pipeline (leads that reached / are in each stage) and revenue amoCRM has but no ad owns. */
export async function pipelineAndRevenueChecks(db: Dashboard, userAccountId: string, pipelineId: number) {
  const [stages, totals] = await Promise.all([
    db.rpc("stage_funnel", { p_user_account_id: userAccountId, p_pipeline_id: pipelineId }),
    db.from("account_revenue_totals").select("*").eq("user_account_id", userAccountId).maybeSingle(),
  ]);
  if (stages.error) throw stages.error;
  if (totals.error) throw totals.error;
  return { stages: stages.data, totals: totals.data };
}

/** PATCH pipeline-stages/:stageId {is_qualified_stage} (requirements: Step 4): a column-level grant allows it. */
export async function setQualifiedStage(db: Dashboard, stageId: string, qualified: boolean) {
  const { error } = await db.from("amocrm_pipeline_stages").update({ is_qualified_stage: qualified }).eq(
    "id",
    stageId,
  );
  if (error) throw error; // affected leads' is_qualified are recomputed in the same transaction
}

/** The "Refresh pipelines" button (requirements: Q12): queues a pipeline sync the worker runs within seconds. */
export async function refreshPipelines(db: Dashboard, userAccountId: string) {
  const { error } = await db.rpc("request_pipeline_sync", { p_user_account_id: userAccountId });
  if (error) throw error;
}

/** Connection health for a settings page: token, breaker, last webhook, last reconcile. */
export async function connectionStatus(db: Dashboard) {
  const { data, error } = await db.from("amocrm_connection_status").select("*");
  if (error) throw error;
  return data;
}
