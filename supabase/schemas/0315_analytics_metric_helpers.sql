-- Funnel and ROI per creative and per direction (seed "Шаг 5"), for a lead-date cohort, as RPCs in public.
-- They run as the caller (security invoker): RLS on the rollup, ad_spend_daily, creatives and directions decides
-- what a caller sees, so a non-member gets empty results and anon has no execute right at all.
--   private.percent_of / cost_per / roi_percent   the rate formulas, null instead of a division by zero
--   public.creative_funnel(account, from, to, direction)   one row per creative (null = leads without creative)
--   public.direction_funnel(account, from, to, direction)  one row per direction (null = no direction)
--   public.funnel_daily(account, from, to, direction, creative)  one row per day, for charts
--   public.qualification_stats(account, direction)  the spec's qualification-stats endpoint, per creative
--
-- Metrics (counts from the rollups of 20261124003100_funnel_rollup.sql, which also says what is counted; all
-- time reads the totals, a date range the daily rows):
--   leads, qualified_leads, conversions (leads with a paid sale), paid_sales, revenue (paid sales of the leads),
--   repeat_revenue (product-recorded purchases credited to the leads by phone; shown separately, not in roi)
--   qualification_rate = qualified_leads / leads x 100
--   conversion_rate    = conversions / qualified_leads x 100   (as the spec defines it; can exceed 100 when
--                        unqualified leads buy)
--   spend              sum of ad_spend_daily.amount; spend_currency its ISO code, or 'mixed' (then spend and
--                      every cost metric are null: sums across currencies mean nothing)
--   cpl = spend / leads, cpql = spend / qualified_leads, cpa = spend / conversions
--   roi = (revenue - spend) / spend x 100
--   Rates and money ratios are numeric rounded to 2 decimals. A zero denominator gives null, never an error;
--   zero or missing spend gives null cpl/cpql/cpa/roi (no cost data is not "free").
-- Date range (UTC days, both ends inclusive, null = open): leads created in the range with all their sales,
-- whenever they closed; spend with spend_date in the range.
-- Direction filter: leads whose direction is it, and spend of creatives whose direction is it; creative rows
-- then add up exactly to that direction's row.
-- Rows: every creative/direction with leads or spend in scope.
-- Nothing destructive; idempotent.
create or replace function private.percent_of(p_part numeric, p_whole numeric)
returns numeric
language sql
immutable
parallel safe
set search_path = ''
as $$
  select case when p_whole is null or p_whole = 0 then null else round(coalesce(p_part, 0) * 100 / p_whole, 2) end
$$;
comment on function private.percent_of(numeric, numeric) is
  'p_part / p_whole x 100, rounded to 2 decimals; null when p_whole is 0 or null.';
revoke all on function private.percent_of(numeric,numeric) from public;
grant execute on function private.percent_of(numeric,numeric) to authenticated;
grant execute on function private.percent_of(numeric,numeric) to service_role;

create or replace function private.cost_per(p_spend numeric, p_units numeric)
returns numeric
language sql
immutable
parallel safe
set search_path = ''
as $$
  select case when p_spend is null or p_spend = 0 or p_units is null or p_units = 0 then null
    else round(p_spend / p_units, 2) end
$$;
comment on function private.cost_per(numeric, numeric) is
  'Spend per unit (lead, qualified lead, conversion), rounded to 2 decimals; null without spend or without units.';
revoke all on function private.cost_per(numeric,numeric) from public;
grant execute on function private.cost_per(numeric,numeric) to authenticated;
grant execute on function private.cost_per(numeric,numeric) to service_role;

create or replace function private.roi_percent(p_revenue numeric, p_spend numeric)
returns numeric
language sql
immutable
parallel safe
set search_path = ''
as $$
  select case when p_spend is null or p_spend = 0 then null
    else round((coalesce(p_revenue, 0) - p_spend) * 100 / p_spend, 2) end
$$;
comment on function private.roi_percent(numeric, numeric) is
  '(revenue - spend) / spend x 100, rounded to 2 decimals; null without spend.';
revoke all on function private.roi_percent(numeric,numeric) from public;
grant execute on function private.roi_percent(numeric,numeric) to authenticated;
grant execute on function private.roi_percent(numeric,numeric) to service_role;
