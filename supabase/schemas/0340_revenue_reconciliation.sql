-- Revenue that no creative gets, and per-account totals that reconcile the funnel with amoCRM.
-- A manager can win a deal the product never created (no lead matches its id or phone): its sale is paid but
-- unattributed (sales.lead_id null). Dropping it would make our totals disagree with amoCRM, so it is listed and
-- counted here instead.
--   public.unattributed_revenue     paid sales without a lead, and won amoCRM deals without a lead whose sale is
--                                   not confirmed yet
--   public.account_revenue_totals   per account: attributed (what the creative/direction funnels add up to) +
--                                   unattributed = total paid, the difference (0 when the rollup is consistent),
--                                   and the amoCRM side (won deals in the mirror) to compare with
--   public.revenue_totals(account, from, to)  the same reconciliation for a period by sale date (local close days)
--   amocrm_deals_won_idx            partial index: won deals of an account without scanning all its deals
--   purchases_product_totals_idx    covering index for the account totals
-- Both views are security_invoker (RLS of sales, amocrm_deals, purchases and the rollup applies).
create index amocrm_deals_won_idx on public.amocrm_deals (user_account_id)
  where status_id = 142 and not is_deleted;

-- account_revenue_totals sums every product purchase of an account: an index-only scan (no heap visit per row).
create index purchases_product_totals_idx on public.purchases (user_account_id) include (amount)
  where amocrm_deal_id is null;

create or replace view public.unattributed_revenue with (security_invoker = true) as
select s.user_account_id, 'paid_sale'::text as source, s.amocrm_deal_id, d.name as deal_name,
  s.amount, s.closed_at, s.client_phone_e164, s.amocrm_pipeline_id as pipeline_id,
  -- The local day of the account's analytics zone the sale counts on (filter periods by it).
  private.analytics_day(coalesce(s.closed_at, s.confirmed_at), z.time_zone) as sale_day
from public.sales s
left join public.amocrm_deals d on d.user_account_id = s.user_account_id and d.amocrm_lead_id = s.amocrm_deal_id
left join lateral private.account_money_settings(s.user_account_id) z on true
where s.status = 'paid' and s.lead_id is null
union all
-- Won in amoCRM, not attributed, and no paid sale yet: the API confirmation is still queued (or failed).
select d.user_account_id, 'won_deal_unconfirmed'::text, d.amocrm_lead_id, d.name,
  d.price, d.closed_at, d.contact_phone_e164, d.pipeline_id, private.analytics_day(d.closed_at, z.time_zone)
from public.amocrm_deals d
left join lateral private.account_money_settings(d.user_account_id) z on true
where d.status_id = 142 and not d.is_deleted and d.lead_id is null
  and not exists (
    select 1 from public.sales s
    where s.user_account_id = d.user_account_id and s.amocrm_deal_id = d.amocrm_lead_id and s.status = 'paid');
comment on view public.unattributed_revenue is
  'Revenue no creative gets: paid sales without a product lead (source paid_sale), and won amoCRM deals without a '
  'lead whose sale is not confirmed yet (source won_deal_unconfirmed; not counted as revenue until confirmed). '
  'sale_day: the local close day in the account''s analytics zone.';

create or replace view public.account_revenue_totals with (security_invoker = true) as
select a.id as user_account_id,
  coalesce(s.paid_sales, 0) as paid_sales,
  coalesce(s.paid_revenue, 0) as paid_revenue,
  coalesce(r.paid_sales, 0) as attributed_paid_sales,
  coalesce(r.revenue, 0) as attributed_revenue,
  coalesce(s.unattributed_paid_sales, 0) as unattributed_paid_sales,
  coalesce(s.unattributed_revenue, 0) as unattributed_revenue,
  -- 0 when attributed + unattributed = total paid.
  coalesce(s.paid_revenue, 0) - coalesce(r.revenue, 0) - coalesce(s.unattributed_revenue, 0) as unreconciled_revenue,
  coalesce(d.won_deals, 0) as amocrm_won_deals,
  coalesce(d.won_amount, 0) as amocrm_won_amount,
  coalesce(d.won_unattributed_deals, 0) as amocrm_won_unattributed_deals,
  coalesce(d.won_awaiting_confirmation, 0) as amocrm_won_awaiting_confirmation,
  coalesce(r.repeat_revenue, 0) as repeat_revenue,
  coalesce(p.product_purchases_revenue, 0) as product_purchases_revenue
from public.user_accounts a
left join lateral (
  select sum(x.paid_sales)::bigint as paid_sales, sum(x.revenue) as revenue, sum(x.repeat_revenue) as repeat_revenue
  from private.analytics_lead_totals x
  where x.user_account_id = a.id
) r on true
left join lateral (
  -- The sale-date rollup holds every paid sale once (on its close day, attributed or not), kept by its own
  -- triggers apart from the lead-date one: summing its days is O(days), not O(sales), and still an independent
  -- check of the lead rollup (unreconciled_revenue).
  select sum(x.paid_sales)::bigint as paid_sales, sum(x.revenue) as paid_revenue,
    sum(x.paid_sales) filter (where not x.attributed)::bigint as unattributed_paid_sales,
    sum(x.revenue) filter (where not x.attributed) as unattributed_revenue
  from private.analytics_sale_daily x
  where x.user_account_id = a.id
) s on true
left join lateral (
  select count(*) as won_deals, sum(coalesce(x.price, 0)) as won_amount,
    count(*) filter (where x.lead_id is null) as won_unattributed_deals,
    count(*) filter (where not exists (
      select 1 from public.sales y
      where y.user_account_id = x.user_account_id and y.amocrm_deal_id = x.amocrm_lead_id and y.status = 'paid'))
      as won_awaiting_confirmation
  from public.amocrm_deals x
  where x.user_account_id = a.id and x.status_id = 142 and not x.is_deleted
) d on true
left join lateral (
  select sum(coalesce(x.amount, 0)) as product_purchases_revenue
  from public.purchases x
  where x.user_account_id = a.id and x.amocrm_deal_id is null
) p on true;
comment on view public.account_revenue_totals is
  'Per account: paid_revenue (all paid sales) = attributed_revenue (sum of the creative/direction funnels) + '
  'unattributed_revenue; unreconciled_revenue shows any difference (0 when consistent). amocrm_won_* describe the '
  'amoCRM mirror (won deals, their amount, without a lead, awaiting API confirmation) to compare with amoCRM. '
  'repeat_revenue = product purchases credited to leads by phone, out of product_purchases_revenue.';

create or replace function public.revenue_totals(
  p_user_account_id uuid,
  p_from date default null,
  p_to date default null
)
returns table (
  user_account_id uuid,
  currency text,
  paid_sales bigint,
  paid_revenue numeric,
  attributed_paid_sales bigint,
  attributed_revenue numeric,
  unattributed_paid_sales bigint,
  unattributed_revenue numeric,
  unreconciled_revenue numeric,
  amocrm_won_deals bigint,
  amocrm_won_amount numeric
)
language sql
stable
set search_path = ''
set jit = off
as $$
  -- attributed_revenue = sum of creative_funnel(…, 'sale_date') over creatives; unattributed from the same
  -- sale-date rollup; paid_* straight from public.sales as the check; amocrm_won_* from the deal mirror.
  with settings as (
    select m.currency, m.time_zone from private.account_money_settings(p_user_account_id) m
  ), rollup as (
    select coalesce(sum(r.paid_sales) filter (where r.attributed), 0)::bigint as attributed_paid_sales,
      coalesce(sum(r.revenue) filter (where r.attributed), 0) as attributed_revenue,
      coalesce(sum(r.paid_sales) filter (where not r.attributed), 0)::bigint as unattributed_paid_sales,
      coalesce(sum(r.revenue) filter (where not r.attributed), 0) as unattributed_revenue
    from private.analytics_sale_daily r
    where r.user_account_id = p_user_account_id
      and r.day between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
  ), paid as (
    select count(*) as paid_sales, coalesce(sum(coalesce(s.amount, 0)), 0) as paid_revenue
    from public.sales s
    cross join settings st
    where s.user_account_id = p_user_account_id and s.status = 'paid'
      -- Written out rather than private.analytics_day(): a function call per sale costs more than the read.
      and (coalesce(s.closed_at, s.confirmed_at) at time zone st.time_zone)::date
        between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
  ), won as (
    select count(*) as won_deals, coalesce(sum(coalesce(d.price, 0)), 0) as won_amount
    from public.amocrm_deals d
    cross join settings st
    where d.user_account_id = p_user_account_id and d.status_id = 142 and not d.is_deleted
      and (d.closed_at at time zone st.time_zone)::date
        between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
  )
  select p_user_account_id, st.currency, p.paid_sales, p.paid_revenue, r.attributed_paid_sales,
    r.attributed_revenue, r.unattributed_paid_sales, r.unattributed_revenue,
    p.paid_revenue - r.attributed_revenue - r.unattributed_revenue, w.won_deals, w.won_amount
  from settings st
  cross join rollup r
  cross join paid p
  cross join won w
$$;
comment on function public.revenue_totals(uuid, date, date) is
  'Revenue of one account for a period by sale date (local close days of its analytics zone, inclusive, null = '
  'open), in its amoCRM currency: paid_revenue (all paid sales closed in it) = attributed_revenue (what '
  'creative_funnel with p_basis sale_date adds up to) + unattributed_revenue; unreconciled_revenue shows any '
  'difference; amocrm_won_* = won deals in the mirror closed in the period, to compare with amoCRM''s report. '
  'No row for an account the caller cannot see.';
revoke all on function public.revenue_totals(uuid,date,date) from public;
grant execute on function public.revenue_totals(uuid,date,date) to authenticated;
grant execute on function public.revenue_totals(uuid,date,date) to service_role;

revoke all on public.unattributed_revenue, public.account_revenue_totals from public, anon, authenticated;

grant select on public.unattributed_revenue, public.account_revenue_totals to authenticated, service_role;
