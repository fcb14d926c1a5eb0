-- The funnel per day, for charts (same metrics, bases, currency rule and range as 0320_funnel_api.sql):
--   public.funnel_daily(account, from, to, direction, creative, basis)
-- Lead metrics by the lead's local creation day; on the sale-date basis money by the sale's local close day;
-- spend by spend day.
create or replace function public.funnel_daily(
  p_user_account_id uuid,
  p_from date default null,
  p_to date default null,
  p_direction_id uuid default null,
  p_creative_id uuid default null,
  p_basis text default 'lead_date'
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
    select m.currency, m.time_zone from private.account_money_settings(p_user_account_id) m
  ), activity as (
    select r.day, r.leads, r.qualified_leads,
      case when p_basis = 'lead_date' then r.converted_leads else 0 end as converted_leads,
      case when p_basis = 'lead_date' then r.paid_sales else 0 end as paid_sales,
      case when p_basis = 'lead_date' then r.revenue else 0 end as revenue,
      r.repeat_revenue, null::text as currency, 0::numeric as spend, 0::numeric as converted,
      null::date as missing_rate_on
    from private.analytics_lead_daily r
    where r.user_account_id = p_user_account_id
      and r.day between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
      and (p_direction_id is null or r.direction_id = p_direction_id)
      and (p_creative_id is null or r.creative_id = p_creative_id)
    union all
    select r.day, 0, 0, r.first_sales, r.paid_sales, r.revenue, 0, null, 0, 0, null
    from private.analytics_sale_daily r
    where p_basis = 'sale_date'
      and r.user_account_id = p_user_account_id
      and r.day between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
      and r.attributed
      and (p_direction_id is null or r.direction_id = p_direction_id)
      and (p_creative_id is null or r.creative_id = p_creative_id)
    union all
    select s.spend_date, 0, 0, 0, 0, 0, 0, s.currency, s.amount, s.converted, s.missing_rate_on
    from private.funnel_spend(p_user_account_id, coalesce(p_from, '-infinity'::date),
      coalesce(p_to, 'infinity'::date), (select st.currency from settings st)) s
    where (p_creative_id is null or s.creative_id = p_creative_id)
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
      count(a.currency) > 0 as has_spend,
      min(a.currency) is distinct from max(a.currency) as mixed,
      case when min(a.currency) is distinct from max(a.currency) then null else sum(a.spend) end as spend,
      case when min(a.currency) is distinct from max(a.currency) then 'mixed' else min(a.currency) end as spend_currency,
      sum(a.converted) as converted,
      min(a.missing_rate_on) as missing_rate_on,
      min(a.currency) filter (where a.missing_rate_on is not null) as missing_rate_currency
    from activity a
    group by a.day
  ), costed as (
    select p.*, st.currency as revenue_currency,
      coalesce(st.currency, case when not p.mixed then p.spend_currency end) as cost_currency,
      case when not p.has_spend or p.missing_rate_on is not null or st.currency is null and p.mixed then null
        else p.converted end as cost_spend
    from per_day p
    cross join settings st
  ), bounds as (
    -- Open ends: from the first day with data to today (the account's zone) or the last day with data,
    -- whichever is later.
    select coalesce(p_from, (select min(p.day) from per_day p), (now() at time zone st.time_zone)::date) as first_day,
      coalesce(p_to, greatest((select max(p.day) from per_day p), (now() at time zone st.time_zone)::date)) as last_day
    -- No rows at all (rather than a run of zeros) for an account the caller cannot see.
    from settings st
    where exists (select 1 from public.user_accounts a where a.id = p_user_account_id)
  )
  select g.day::date,
    coalesce(c.leads, 0), coalesce(c.qualified_leads, 0), private.percent_of(c.qualified_leads, c.leads),
    coalesce(c.conversions, 0), private.percent_of(c.conversions, c.qualified_leads),
    coalesce(c.paid_sales, 0), coalesce(c.revenue, 0),
    case when p_basis = 'lead_date' then coalesce(c.repeat_revenue, 0) end,
    coalesce(c.spend, case when c.spend_currency = 'mixed' then null else 0 end), c.spend_currency,
    private.cost_per(c.cost_spend, c.leads), private.cost_per(c.cost_spend, c.qualified_leads),
    private.cost_per(c.cost_spend, c.conversions),
    case when c.revenue_currency is not null then private.roi_percent(c.revenue, c.cost_spend) end,
    c.cost_currency, round(c.cost_spend, 2),
    private.roi_null_reason(coalesce(c.has_spend, false), c.cost_spend, c.revenue_currency, c.missing_rate_currency,
      c.missing_rate_on)
  from bounds b
  cross join lateral generate_series(b.first_day, b.last_day, interval '1 day') as g (day)
  left join costed c on c.day = g.day::date
  where private.funnel_basis(p_basis) is not null
  order by 1
$$;
comment on function public.funnel_daily(uuid, date, date, uuid, uuid, text) is
  'Funnel and ROI per local day (lead creation day for lead metrics, spend day for spend; on the sale_date basis '
  'sale close day for money), every day of the range present (zeros when empty), for charts. Optional direction '
  'and creative filters. Runs as the caller.';
revoke all on function funnel_daily(uuid,date,date,uuid,uuid,text) from public;
grant execute on function funnel_daily(uuid,date,date,uuid,uuid,text) to authenticated;
grant execute on function funnel_daily(uuid,date,date,uuid,uuid,text) to service_role;
