-- Funnel and ROI per creative and per direction (requirements: Step 5), as RPCs in public. They run as the
-- caller (security invoker): RLS on the rollups, ad_spend_daily, creatives and directions decides what a caller
-- sees, so a non-member gets empty results and anon has no execute right at all.
--   public.creative_funnel(account, from, to, direction, basis)   one row per creative (null = leads without one)
--   public.direction_funnel(account, from, to, direction, basis)  one row per direction (null = no direction)
--   public.funnel_daily(account, from, to, direction, creative, basis)  one row per day, for charts (0321)
--   public.qualification_stats(account, direction)  requirements' qualification-stats endpoint, per creative
--   (time to sale per creative/direction: public.time_to_sale, 0322)
-- Every metric is defined once, in the README ("Metrics"); the counts come from the rollups (0310, 0316), all
-- time from the totals, a date range from the daily rows.
-- Date range: local days of the account's analytics zone (private.analytics_time_zone), both ends inclusive,
-- null = open. Basis (p_basis):
--   lead_date  (default) a cohort: leads created in the range with all their sales, whenever they closed
--   sale_date  what was sold in the range: paid sales closed in it (by their lead's creative/direction);
--              conversions = leads whose first paid sale closed in it; leads still counted by creation day
-- Spend always by spend_date (the ad platform's reporting day). Cost metrics are computed in one currency: the
-- amoCRM account's (revenue's), spend converted with the rate of its day (public.currency_rates); otherwise
-- null with roi_null_reason saying why.
-- Direction filter: leads whose direction is it, and spend of creatives whose direction is it; creative rows
-- then add up exactly to that direction's row. Rows: every creative/direction with leads, sales or spend in scope.
--
-- `set jit = off`: these are millisecond reads planned without their argument values; the generic plan's cost
-- estimate can cross jit_above_cost, and JIT compilation then costs more than the whole query (measured: ~25 ms).
-- Date bounds are written as `between coalesce(p_from, '-infinity') and coalesce(p_to, 'infinity')` rather than
-- `p_from is null or …`: these functions are planned without the argument values, and only the first form
-- still becomes an index range. The basis is compared as text in the branches (one-time filters) and checked
-- once by private.funnel_basis.
create or replace function public.creative_funnel(
  p_user_account_id uuid,
  p_from date default null,
  p_to date default null,
  p_direction_id uuid default null,
  p_basis text default 'lead_date'
)
returns table (
  creative_id uuid,
  creative_name text,
  direction_id uuid,
  direction_name text,
  leads bigint,
  qualified_leads bigint,
  qualification_rate numeric,
  conversions bigint,
  conversion_rate numeric,
  paid_sales bigint,
  revenue numeric,
  repeat_revenue numeric,
  spend numeric,
  spend_currency text,
  cpl numeric,
  cpql numeric,
  cpa numeric,
  roi numeric,
  cost_currency text,
  cost_spend numeric,
  roi_null_reason text
)
language sql
stable
set search_path = ''
set jit = off
as $$
  with settings as (
    select (select m.currency from private.account_money_settings(p_user_account_id) m) as currency
  ), activity as (
    -- All time: the totals (both bases agree: every paid sale is counted once either way). A range: the daily
    -- rows, whose money counts on the lead-date basis only. (Each branch is switched off by a one-time filter.)
    select r.creative_id, r.leads, r.qualified_leads, r.converted_leads, r.paid_sales, r.revenue, r.repeat_revenue,
      null::text as currency, 0::numeric as spend, 0::numeric as converted, null::date as missing_rate_on
    from private.analytics_lead_totals r
    where p_from is null and p_to is null
      and r.user_account_id = p_user_account_id
      and (p_direction_id is null or r.direction_id = p_direction_id)
    union all
    select r.creative_id, r.leads, r.qualified_leads, r.converted_leads, r.paid_sales, r.revenue, r.repeat_revenue,
      null, 0, 0, null
    from private.analytics_lead_daily r
    where (p_from is not null or p_to is not null) and p_basis = 'lead_date'
      and r.user_account_id = p_user_account_id
      and r.day between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
      and (p_direction_id is null or r.direction_id = p_direction_id)
    union all
    select r.creative_id, r.leads, r.qualified_leads, 0, 0, 0, 0, null, 0, 0, null
    from private.analytics_lead_daily r
    where (p_from is not null or p_to is not null) and p_basis = 'sale_date'
      and r.user_account_id = p_user_account_id
      and r.day between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
      and (p_direction_id is null or r.direction_id = p_direction_id)
    union all
    -- Sale-date basis: what was sold in the range (unattributed sales are not any creative's).
    select r.creative_id, 0, 0, r.first_sales, r.paid_sales, r.revenue, 0, null, 0, 0, null
    from private.analytics_sale_daily r
    where (p_from is not null or p_to is not null) and p_basis = 'sale_date'
      and r.user_account_id = p_user_account_id
      and r.day between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
      and r.attributed
      and (p_direction_id is null or r.direction_id = p_direction_id)
    union all
    select s.creative_id, 0, 0, 0, 0, 0, 0, s.currency, s.amount, s.converted, s.missing_rate_on
    from private.funnel_spend(p_user_account_id, p_from, p_to, (select st.currency from settings st)) s
    where p_direction_id is null
      or exists (select 1 from public.creatives c where c.id = s.creative_id and c.direction_id = p_direction_id)
  ), totals as (
    select a.creative_id,
      sum(a.leads)::bigint as leads,
      sum(a.qualified_leads)::bigint as qualified_leads,
      sum(a.converted_leads)::bigint as conversions,
      sum(a.paid_sales)::bigint as paid_sales,
      sum(a.revenue) as revenue,
      sum(a.repeat_revenue) as repeat_revenue,
      count(a.currency) > 0 as has_spend,
      min(a.currency) is distinct from max(a.currency) as mixed,
      case when min(a.currency) is distinct from max(a.currency) then null else sum(a.spend) end as spend,
      case when min(a.currency) is distinct from max(a.currency) then 'mixed' else min(a.currency) end as spend_currency,
      sum(a.converted) as converted,
      min(a.missing_rate_on) as missing_rate_on,
      min(a.currency) filter (where a.missing_rate_on is not null) as missing_rate_currency
    from activity a
    group by a.creative_id
  ), costed as (
    select t.*, st.currency as revenue_currency,
      coalesce(st.currency, case when not t.mixed then t.spend_currency end) as cost_currency,
      case when not t.has_spend or t.missing_rate_on is not null or st.currency is null and t.mixed then null
        else t.converted end as cost_spend
    from totals t
    cross join settings st
  )
  select c.creative_id, cr.name, cr.direction_id, d.name,
    c.leads, c.qualified_leads, private.percent_of(c.qualified_leads, c.leads),
    c.conversions, private.percent_of(c.conversions, c.qualified_leads),
    c.paid_sales, c.revenue,
    case when p_basis = 'lead_date' or p_from is null and p_to is null then c.repeat_revenue end,
    c.spend, c.spend_currency,
    private.cost_per(c.cost_spend, c.leads), private.cost_per(c.cost_spend, c.qualified_leads),
    private.cost_per(c.cost_spend, c.conversions),
    case when c.revenue_currency is not null then private.roi_percent(c.revenue, c.cost_spend) end,
    c.cost_currency, round(c.cost_spend, 2),
    private.roi_null_reason(c.has_spend, c.cost_spend, c.revenue_currency, c.missing_rate_currency, c.missing_rate_on)
  from costed c
  left join public.creatives cr on cr.id = c.creative_id
  left join public.directions d on d.id = cr.direction_id
  where (c.leads > 0 or c.has_spend or c.paid_sales > 0)
    and private.funnel_basis(p_basis) is not null
  order by c.leads desc, c.creative_id nulls last
$$;
comment on function public.creative_funnel(uuid, date, date, uuid, text) is
  'Funnel and ROI per creative (README "Metrics"): leads, qualified, qualification_rate, conversions, '
  'conversion_rate (of qualified), paid_sales, revenue, repeat_revenue, spend, cpl, cpql, cpa, roi in '
  'cost_currency (the amoCRM account''s; spend converted by day), roi_null_reason. '
  'Range in local days of the account''s zone; p_basis lead_date (cohort) or sale_date (sold in the range). '
  'creative_id null = leads without a creative. Optional direction filter. Runs as the caller (RLS).';
revoke all on function creative_funnel(uuid,date,date,uuid,text) from public;
grant execute on function creative_funnel(uuid,date,date,uuid,text) to authenticated;
grant execute on function creative_funnel(uuid,date,date,uuid,text) to service_role;

create or replace function public.direction_funnel(
  p_user_account_id uuid,
  p_from date default null,
  p_to date default null,
  p_direction_id uuid default null,
  p_basis text default 'lead_date'
)
returns table (
  direction_id uuid,
  direction_name text,
  leads bigint,
  qualified_leads bigint,
  qualification_rate numeric,
  conversions bigint,
  conversion_rate numeric,
  paid_sales bigint,
  revenue numeric,
  repeat_revenue numeric,
  spend numeric,
  spend_currency text,
  cpl numeric,
  cpql numeric,
  cpa numeric,
  roi numeric,
  cost_currency text,
  cost_spend numeric,
  roi_null_reason text
)
language sql
stable
set search_path = ''
set jit = off
as $$
  with settings as (
    select (select m.currency from private.account_money_settings(p_user_account_id) m) as currency
  ), spend_by_creative as (
    -- Per creative first, then to directions: joining 300 sums to creatives, not every spend row.
    select s.creative_id, s.currency, sum(s.amount) as amount, sum(s.converted) as converted,
      min(s.missing_rate_on) as missing_rate_on
    from private.funnel_spend(p_user_account_id, p_from, p_to, (select st.currency from settings st)) s
    group by s.creative_id, s.currency
  ), activity as (
    select r.direction_id, r.leads, r.qualified_leads, r.converted_leads, r.paid_sales, r.revenue, r.repeat_revenue,
      null::text as currency, 0::numeric as spend, 0::numeric as converted, null::date as missing_rate_on
    from private.analytics_lead_totals r
    where p_from is null and p_to is null
      and r.user_account_id = p_user_account_id
      and (p_direction_id is null or r.direction_id = p_direction_id)
    union all
    select r.direction_id, r.leads, r.qualified_leads, r.converted_leads, r.paid_sales, r.revenue, r.repeat_revenue,
      null, 0, 0, null
    from private.analytics_lead_daily r
    where (p_from is not null or p_to is not null) and p_basis = 'lead_date'
      and r.user_account_id = p_user_account_id
      and r.day between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
      and (p_direction_id is null or r.direction_id = p_direction_id)
    union all
    select r.direction_id, r.leads, r.qualified_leads, 0, 0, 0, 0, null, 0, 0, null
    from private.analytics_lead_daily r
    where (p_from is not null or p_to is not null) and p_basis = 'sale_date'
      and r.user_account_id = p_user_account_id
      and r.day between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
      and (p_direction_id is null or r.direction_id = p_direction_id)
    union all
    select r.direction_id, 0, 0, r.first_sales, r.paid_sales, r.revenue, 0, null, 0, 0, null
    from private.analytics_sale_daily r
    where (p_from is not null or p_to is not null) and p_basis = 'sale_date'
      and r.user_account_id = p_user_account_id
      and r.day between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
      and r.attributed
      and (p_direction_id is null or r.direction_id = p_direction_id)
    union all
    -- Spend belongs to the direction its creative is in now.
    select c.direction_id, 0, 0, 0, 0, 0, 0, s.currency, s.amount, s.converted, s.missing_rate_on
    from spend_by_creative s
    join public.creatives c on c.id = s.creative_id
    where p_direction_id is null or c.direction_id = p_direction_id
  ), totals as (
    select a.direction_id,
      sum(a.leads)::bigint as leads,
      sum(a.qualified_leads)::bigint as qualified_leads,
      sum(a.converted_leads)::bigint as conversions,
      sum(a.paid_sales)::bigint as paid_sales,
      sum(a.revenue) as revenue,
      sum(a.repeat_revenue) as repeat_revenue,
      count(a.currency) > 0 as has_spend,
      min(a.currency) is distinct from max(a.currency) as mixed,
      case when min(a.currency) is distinct from max(a.currency) then null else sum(a.spend) end as spend,
      case when min(a.currency) is distinct from max(a.currency) then 'mixed' else min(a.currency) end as spend_currency,
      sum(a.converted) as converted,
      min(a.missing_rate_on) as missing_rate_on,
      min(a.currency) filter (where a.missing_rate_on is not null) as missing_rate_currency
    from activity a
    group by a.direction_id
  ), costed as (
    select t.*, st.currency as revenue_currency,
      coalesce(st.currency, case when not t.mixed then t.spend_currency end) as cost_currency,
      case when not t.has_spend or t.missing_rate_on is not null or st.currency is null and t.mixed then null
        else t.converted end as cost_spend
    from totals t
    cross join settings st
  )
  select c.direction_id, d.name,
    c.leads, c.qualified_leads, private.percent_of(c.qualified_leads, c.leads),
    c.conversions, private.percent_of(c.conversions, c.qualified_leads),
    c.paid_sales, c.revenue,
    case when p_basis = 'lead_date' or p_from is null and p_to is null then c.repeat_revenue end,
    c.spend, c.spend_currency,
    private.cost_per(c.cost_spend, c.leads), private.cost_per(c.cost_spend, c.qualified_leads),
    private.cost_per(c.cost_spend, c.conversions),
    case when c.revenue_currency is not null then private.roi_percent(c.revenue, c.cost_spend) end,
    c.cost_currency, round(c.cost_spend, 2),
    private.roi_null_reason(c.has_spend, c.cost_spend, c.revenue_currency, c.missing_rate_currency, c.missing_rate_on)
  from costed c
  left join public.directions d on d.id = c.direction_id
  where (c.leads > 0 or c.has_spend or c.paid_sales > 0)
    and private.funnel_basis(p_basis) is not null
  order by c.leads desc, c.direction_id nulls last
$$;
comment on function public.direction_funnel(uuid, date, date, uuid, text) is
  'Funnel and ROI per direction (same metrics and bases as creative_funnel). Leads and sales count by their lead''s '
  'direction, spend by the direction of its creative; direction_id null = neither. Runs as the caller.';
revoke all on function direction_funnel(uuid,date,date,uuid,text) from public;
grant execute on function direction_funnel(uuid,date,date,uuid,text) to authenticated;
grant execute on function direction_funnel(uuid,date,date,uuid,text) to service_role;

create or replace function public.qualification_stats(p_user_account_id uuid, p_direction_id uuid default null)
returns table (
  creative_id uuid,
  creative_name text,
  leads bigint,
  qualified_leads bigint,
  qualification_rate numeric,
  conversions bigint,
  conversion_rate numeric
)
language sql
stable
set search_path = ''
as $$
  select f.creative_id, f.creative_name, f.leads, f.qualified_leads, f.qualification_rate, f.conversions,
    f.conversion_rate
  from public.creative_funnel(p_user_account_id, null, null, p_direction_id) f
  where f.leads > 0
  order by f.leads desc, f.creative_id nulls last
$$;
comment on function public.qualification_stats(uuid, uuid) is
  'The requirements'' GET qualification-stats?userAccountId=&directionId= (Steps 4-5): per creative, all time, '
  'leads, qualified_leads, qualification_rate, conversions, conversion_rate (of qualified). creative_id null = '
  'leads without a creative. Runs as the caller.';
revoke all on function qualification_stats(uuid,uuid) from public;
grant execute on function qualification_stats(uuid,uuid) to authenticated;
grant execute on function qualification_stats(uuid,uuid) to service_role;
