-- All-time funnel and ROI views for the dashboard, one row per creative / direction of every account the caller
-- belongs to. security_invoker: they run the RPCs of 0320_funnel_api.sql as the caller, once
-- per account the caller can see in public.user_accounts (RLS), so the numbers and the RLS scoping are exactly
-- those of the functions. Filter on user_account_id: it is pushed down to public.user_accounts.
--   public.creative_funnel_stats     = public.creative_funnel(account) for each visible account
--   public.direction_funnel_stats    = public.direction_funnel(account) for each visible account
-- For date ranges call the functions.
create or replace view public.creative_funnel_stats with (security_invoker = true) as
select a.id as user_account_id, f.creative_id, f.creative_name, f.direction_id, f.direction_name,
  f.leads, f.qualified_leads, f.qualification_rate, f.conversions, f.conversion_rate, f.paid_sales, f.revenue,
  f.repeat_revenue, f.spend, f.spend_currency, f.cpl, f.cpql, f.cpa, f.roi, f.cost_currency, f.cost_spend,
  f.roi_null_reason
from public.user_accounts a
cross join lateral public.creative_funnel(a.id) f;
comment on view public.creative_funnel_stats is
  'All-time funnel and ROI per creative (see public.creative_funnel) for every account the caller belongs to.';

create or replace view public.direction_funnel_stats with (security_invoker = true) as
select a.id as user_account_id, f.direction_id, f.direction_name,
  f.leads, f.qualified_leads, f.qualification_rate, f.conversions, f.conversion_rate, f.paid_sales, f.revenue,
  f.repeat_revenue, f.spend, f.spend_currency, f.cpl, f.cpql, f.cpa, f.roi, f.cost_currency, f.cost_spend,
  f.roi_null_reason
from public.user_accounts a
cross join lateral public.direction_funnel(a.id) f;
comment on view public.direction_funnel_stats is
  'All-time funnel and ROI per direction (see public.direction_funnel) for every account the caller belongs to.';

revoke all on public.creative_funnel_stats, public.direction_funnel_stats from public, anon, authenticated;

grant select on public.creative_funnel_stats, public.direction_funnel_stats to authenticated, service_role;
