-- Funnel and ROI per creative and per direction (requirements: Step 5), for a lead-date cohort, as RPCs in
-- public. They run as the caller (security invoker): RLS on the rollup, ad_spend_daily, creatives and directions
-- decides what a caller sees, so a non-member gets empty results and anon has no execute right at all.
--   public.creative_funnel(account, from, to, direction)   one row per creative (null = leads without creative)
--   public.direction_funnel(account, from, to, direction)  one row per direction (null = no direction)
--   public.funnel_daily(account, from, to, direction, creative)  one row per day, for charts
--   public.qualification_stats(account, direction)  requirements' qualification-stats endpoint, per creative
-- Every metric is defined once, in the README ("Metrics"); the counts come from the rollups (0310), all time
-- from the totals, a date range from the daily rows.
-- Date range (UTC days, both ends inclusive, null = open): leads created in the range with all their sales,
-- whenever they closed; spend with spend_date in the range.
-- Direction filter: leads whose direction is it, and spend of creatives whose direction is it; creative rows
-- then add up exactly to that direction's row. Rows: every creative/direction with leads or spend in scope.
--
-- `set jit = off`: these are millisecond reads planned without their argument values; the generic plan's cost
-- estimate can cross jit_above_cost, and JIT compilation then costs more than the whole query (measured: ~25 ms).
-- Date bounds are written as `between coalesce(p_from, '-infinity') and coalesce(p_to, 'infinity')` rather than
-- `p_from is null or …`: these functions are planned without the argument values, and only the first form
-- still becomes an index range.
create or replace function public.creative_funnel(
  p_user_account_id uuid,
  p_from date default null,
  p_to date default null,
  p_direction_id uuid default null
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
  roi numeric
)
language sql
stable
set search_path = ''
set jit = off
as $$
  with activity as (
    -- All time: the totals. A range: the daily rows. (Each branch is switched off by a one-time filter.)
    select r.creative_id, r.leads, r.qualified_leads, r.converted_leads, r.paid_sales, r.revenue, r.repeat_revenue,
      0::numeric as spend, null::text as currency
    from private.analytics_lead_totals r
    where p_from is null and p_to is null
      and r.user_account_id = p_user_account_id
      and (p_direction_id is null or r.direction_id = p_direction_id)
    union all
    select r.creative_id, r.leads, r.qualified_leads, r.converted_leads, r.paid_sales, r.revenue, r.repeat_revenue,
      0, null
    from private.analytics_lead_daily r
    where (p_from is not null or p_to is not null)
      and r.user_account_id = p_user_account_id
      and r.day between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
      and (p_direction_id is null or r.direction_id = p_direction_id)
    union all
    select s.creative_id, 0, 0, 0, 0, 0, 0, s.amount, s.currency
    from private.analytics_spend_totals s
    where p_from is null and p_to is null
      and s.user_account_id = p_user_account_id and s.spend_rows > 0
      and (p_direction_id is null
        or exists (select 1 from public.creatives c where c.id = s.creative_id and c.direction_id = p_direction_id))
    union all
    select s.creative_id, 0, 0, 0, 0, 0, 0, s.amount, s.currency
    from public.ad_spend_daily s
    where (p_from is not null or p_to is not null)
      and s.user_account_id = p_user_account_id
      and s.spend_date between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
      and (p_direction_id is null
        or exists (select 1 from public.creatives c where c.id = s.creative_id and c.direction_id = p_direction_id))
  ), totals as (
    select a.creative_id,
      sum(a.leads)::bigint as leads,
      sum(a.qualified_leads)::bigint as qualified_leads,
      sum(a.converted_leads)::bigint as conversions,
      sum(a.paid_sales)::bigint as paid_sales,
      sum(a.revenue) as revenue,
      sum(a.repeat_revenue) as repeat_revenue,
      count(a.currency) > 0 as has_spend,
      case when min(a.currency) is distinct from max(a.currency) then null else sum(a.spend) end as spend,
      case when min(a.currency) is distinct from max(a.currency) then 'mixed' else min(a.currency) end as spend_currency
    from activity a
    group by a.creative_id
  )
  select t.creative_id, c.name, c.direction_id, d.name,
    t.leads, t.qualified_leads, private.percent_of(t.qualified_leads, t.leads),
    t.conversions, private.percent_of(t.conversions, t.qualified_leads),
    t.paid_sales, t.revenue, t.repeat_revenue, t.spend, t.spend_currency,
    private.cost_per(t.spend, t.leads), private.cost_per(t.spend, t.qualified_leads),
    private.cost_per(t.spend, t.conversions), private.roi_percent(t.revenue, t.spend)
  from totals t
  left join public.creatives c on c.id = t.creative_id
  left join public.directions d on d.id = c.direction_id
  where t.leads > 0 or t.has_spend
  order by t.leads desc, t.creative_id nulls last
$$;
comment on function public.creative_funnel(uuid, date, date, uuid) is
  'Funnel and ROI per creative for a lead-date cohort (UTC days, inclusive, null = open): leads, qualified, '
  'qualification_rate, conversions, conversion_rate (of qualified), revenue (paid sales), repeat_revenue, spend, '
  'cpl, cpql, cpa, roi. creative_id null = leads without a creative. Optional direction filter. Runs as the '
  'caller: RLS scopes it to accounts the caller belongs to.';
revoke all on function creative_funnel(uuid,date,date,uuid) from public;
grant execute on function creative_funnel(uuid,date,date,uuid) to authenticated;
grant execute on function creative_funnel(uuid,date,date,uuid) to service_role;

create or replace function public.direction_funnel(
  p_user_account_id uuid,
  p_from date default null,
  p_to date default null,
  p_direction_id uuid default null
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
  roi numeric
)
language sql
stable
set search_path = ''
set jit = off
as $$
  with spend_by_creative as (
    -- Per creative first, then to directions: joining 300 sums to creatives, not every spend row.
    select s.creative_id, sum(s.amount) as amount, s.currency
    from private.analytics_spend_totals s
    where p_from is null and p_to is null and s.user_account_id = p_user_account_id and s.spend_rows > 0
    group by s.creative_id, s.currency
    union all
    select s.creative_id, sum(s.amount), s.currency
    from public.ad_spend_daily s
    where (p_from is not null or p_to is not null)
      and s.user_account_id = p_user_account_id
      and s.spend_date between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
    group by s.creative_id, s.currency
  ), activity as (
    select r.direction_id, r.leads, r.qualified_leads, r.converted_leads, r.paid_sales, r.revenue, r.repeat_revenue,
      0::numeric as spend, null::text as currency
    from private.analytics_lead_totals r
    where p_from is null and p_to is null
      and r.user_account_id = p_user_account_id
      and (p_direction_id is null or r.direction_id = p_direction_id)
    union all
    select r.direction_id, r.leads, r.qualified_leads, r.converted_leads, r.paid_sales, r.revenue, r.repeat_revenue,
      0, null
    from private.analytics_lead_daily r
    where (p_from is not null or p_to is not null)
      and r.user_account_id = p_user_account_id
      and r.day between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
      and (p_direction_id is null or r.direction_id = p_direction_id)
    union all
    -- Spend belongs to the direction its creative is in now.
    select c.direction_id, 0, 0, 0, 0, 0, 0, s.amount, s.currency
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
      case when min(a.currency) is distinct from max(a.currency) then null else sum(a.spend) end as spend,
      case when min(a.currency) is distinct from max(a.currency) then 'mixed' else min(a.currency) end as spend_currency
    from activity a
    group by a.direction_id
  )
  select t.direction_id, d.name,
    t.leads, t.qualified_leads, private.percent_of(t.qualified_leads, t.leads),
    t.conversions, private.percent_of(t.conversions, t.qualified_leads),
    t.paid_sales, t.revenue, t.repeat_revenue, t.spend, t.spend_currency,
    private.cost_per(t.spend, t.leads), private.cost_per(t.spend, t.qualified_leads),
    private.cost_per(t.spend, t.conversions), private.roi_percent(t.revenue, t.spend)
  from totals t
  left join public.directions d on d.id = t.direction_id
  where t.leads > 0 or t.has_spend
  order by t.leads desc, t.direction_id nulls last
$$;
comment on function public.direction_funnel(uuid, date, date, uuid) is
  'Funnel and ROI per direction for a lead-date cohort (same metrics as creative_funnel). Leads count by their '
  'own direction, spend by the direction of its creative; direction_id null = neither. Runs as the caller.';
revoke all on function direction_funnel(uuid,date,date,uuid) from public;
grant execute on function direction_funnel(uuid,date,date,uuid) to authenticated;
grant execute on function direction_funnel(uuid,date,date,uuid) to service_role;

create or replace function public.funnel_daily(
  p_user_account_id uuid,
  p_from date default null,
  p_to date default null,
  p_direction_id uuid default null,
  p_creative_id uuid default null
)
returns table (
  day date,
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
  roi numeric
)
language sql
stable
set search_path = ''
set jit = off
as $$
  with activity as (
    select r.day, r.leads, r.qualified_leads, r.converted_leads, r.paid_sales, r.revenue, r.repeat_revenue,
      0::numeric as spend, null::text as currency
    from private.analytics_lead_daily r
    where r.user_account_id = p_user_account_id
      and r.day between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
      and (p_direction_id is null or r.direction_id = p_direction_id)
      and (p_creative_id is null or r.creative_id = p_creative_id)
    union all
    select s.spend_date, 0, 0, 0, 0, 0, 0, s.amount, s.currency
    from public.ad_spend_daily s
    where s.user_account_id = p_user_account_id
      and s.spend_date between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
      and (p_creative_id is null or s.creative_id = p_creative_id)
      and (p_direction_id is null
        or exists (select 1 from public.creatives c where c.id = s.creative_id and c.direction_id = p_direction_id))
  ), per_day as (
    select a.day,
      sum(a.leads)::bigint as leads,
      sum(a.qualified_leads)::bigint as qualified_leads,
      sum(a.converted_leads)::bigint as conversions,
      sum(a.paid_sales)::bigint as paid_sales,
      sum(a.revenue) as revenue,
      sum(a.repeat_revenue) as repeat_revenue,
      case when min(a.currency) is distinct from max(a.currency) then null else sum(a.spend) end as spend,
      case when min(a.currency) is distinct from max(a.currency) then 'mixed' else min(a.currency) end as spend_currency
    from activity a
    group by a.day
  ), bounds as (
    -- Open ends: from the first day with data to today (UTC) or the last day with data, whichever is later.
    select coalesce(p_from, (select min(p.day) from per_day p), (now() at time zone 'UTC')::date) as first_day,
      coalesce(p_to, greatest((select max(p.day) from per_day p), (now() at time zone 'UTC')::date)) as last_day
    -- No rows at all (rather than a run of zeros) for an account the caller cannot see.
    where exists (select 1 from public.user_accounts a where a.id = p_user_account_id)
  )
  select g.day::date,
    coalesce(p.leads, 0), coalesce(p.qualified_leads, 0), private.percent_of(p.qualified_leads, p.leads),
    coalesce(p.conversions, 0), private.percent_of(p.conversions, p.qualified_leads),
    coalesce(p.paid_sales, 0), coalesce(p.revenue, 0), coalesce(p.repeat_revenue, 0),
    coalesce(p.spend, case when p.spend_currency = 'mixed' then null else 0 end), p.spend_currency,
    private.cost_per(p.spend, p.leads), private.cost_per(p.spend, p.qualified_leads),
    private.cost_per(p.spend, p.conversions), private.roi_percent(p.revenue, p.spend)
  from bounds b
  cross join lateral generate_series(b.first_day, b.last_day, interval '1 day') as g (day)
  left join per_day p on p.day = g.day::date
  order by 1
$$;
comment on function public.funnel_daily(uuid, date, date, uuid, uuid) is
  'Funnel and ROI per day (lead creation day for lead metrics, spend day for spend), every day of the range '
  'present (zeros when empty), for charts. Optional direction and creative filters. Runs as the caller.';
revoke all on function funnel_daily(uuid,date,date,uuid,uuid) from public;
grant execute on function funnel_daily(uuid,date,date,uuid,uuid) to authenticated;
grant execute on function funnel_daily(uuid,date,date,uuid,uuid) to service_role;

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
