-- ---------------------------------------------------------------------------------------------------------------
-- From scratch: the oracle for tests and the repair / bulk-load path
-- ---------------------------------------------------------------------------------------------------------------
create or replace function private.analytics_expected_credits(p_user_account_id uuid)
returns table (purchase_id text, user_account_id uuid, phone_e164 text, lead_id bigint, amount numeric)
language sql
stable
set search_path = ''
as $$
  select w.purchase_id, w.user_account_id, w.phone_e164, w.lead_id, w.amount
  from (
    select pu.id::text as purchase_id, pu.user_account_id, pu.client_phone_e164 as phone_e164,
      coalesce(pu.amount, 0) as amount,
      (select l.id::bigint from public.leads l
       where l.user_account_id = pu.user_account_id and l.phone_e164 = pu.client_phone_e164
         and l.created_at <= coalesce(pu.purchase_date, 'infinity'::timestamptz)
       order by l.created_at desc, l.id desc
       limit 1) as lead_id
    from public.purchases pu
    where pu.user_account_id = p_user_account_id and pu.amocrm_deal_id is null and pu.client_phone_e164 is not null
  ) w
  where w.lead_id is not null
$$;
comment on function private.analytics_expected_credits(uuid) is
  'From scratch: the lead each product-recorded purchase of an account is credited to (see analytics_repeat_credits).';
revoke all on function private.analytics_expected_credits(uuid) from public;
grant execute on function private.analytics_expected_credits(uuid) to service_role;

create or replace function private.analytics_expected_rollup(p_user_account_id uuid)
returns table (
  user_account_id uuid, creative_id uuid, direction_id uuid, day date, leads bigint, qualified_leads bigint,
  converted_leads bigint, paid_sales bigint, revenue numeric, repeat_purchases bigint, repeat_revenue numeric
)
language sql
stable
set search_path = ''
as $$
  with paid as (
    select s.lead_id, count(*) as n, sum(coalesce(s.amount, 0)) as amount
    from public.sales s
    join public.leads l on l.id = s.lead_id and l.user_account_id = s.user_account_id
    where l.user_account_id = p_user_account_id and s.status = 'paid'
    group by s.lead_id
  ), repeats as (
    select c.lead_id, count(*) as n, sum(c.amount) as amount
    from private.analytics_expected_credits(p_user_account_id) c
    group by c.lead_id
  )
  select l.user_account_id, l.creative_id, l.direction_id,
    private.analytics_day(l.created_at, private.analytics_time_zone(p_user_account_id)),
    count(*), count(*) filter (where l.is_qualified), count(*) filter (where p.n > 0),
    coalesce(sum(p.n), 0), coalesce(sum(p.amount), 0), coalesce(sum(r.n), 0), coalesce(sum(r.amount), 0)
  from public.leads l
  left join paid p on p.lead_id = l.id
  left join repeats r on r.lead_id = l.id
  where l.user_account_id = p_user_account_id
  group by 1, 2, 3, 4
$$;
comment on function private.analytics_expected_rollup(uuid) is
  'From scratch: what private.analytics_lead_daily must hold for an account (the oracle the triggers are tested '
  'against, and the source of private.analytics_rebuild).';
revoke all on function private.analytics_expected_rollup(uuid) from public;
grant execute on function private.analytics_expected_rollup(uuid) to service_role;

create or replace function private.analytics_rebuild(p_user_account_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  -- SHARE mode blocks writers of the sources (all accounts) for the duration, so the result is exact.
  lock table public.leads, public.sales, public.purchases, public.ad_spend_daily in share mode;

  delete from private.analytics_lead_daily where user_account_id = p_user_account_id;
  delete from private.analytics_lead_totals where user_account_id = p_user_account_id;
  delete from private.analytics_spend_totals where user_account_id = p_user_account_id;
  delete from private.analytics_lead_money where user_account_id = p_user_account_id;
  delete from private.analytics_repeat_credits where user_account_id = p_user_account_id;

  insert into private.analytics_repeat_credits (purchase_id, user_account_id, phone_e164, lead_id, amount)
  select c.purchase_id, c.user_account_id, c.phone_e164, c.lead_id, c.amount
  from private.analytics_expected_credits(p_user_account_id) c;

  insert into private.analytics_lead_money (
    lead_id, user_account_id, creative_id, direction_id, day, paid_sales, revenue, repeat_purchases, repeat_revenue
  )
  select x.lead_id, p_user_account_id, l.creative_id, l.direction_id,
    private.analytics_day(l.created_at, private.analytics_time_zone(p_user_account_id)),
    sum(x.paid_sales), sum(x.revenue), sum(x.repeat_purchases), sum(x.repeat_revenue)
  from (
    select s.lead_id, 1 as paid_sales, coalesce(s.amount, 0) as revenue, 0 as repeat_purchases, 0 as repeat_revenue
    from public.sales s
    join public.leads l on l.id = s.lead_id and l.user_account_id = s.user_account_id
    where l.user_account_id = p_user_account_id and s.status = 'paid'
    union all
    select c.lead_id, 0, 0, 1, c.amount
    from private.analytics_repeat_credits c
    where c.user_account_id = p_user_account_id
  ) x
  join public.leads l on l.id = x.lead_id and l.user_account_id = p_user_account_id
  group by x.lead_id, l.creative_id, l.direction_id, l.created_at;

  insert into private.analytics_lead_daily (
    user_account_id, creative_id, direction_id, day, leads, qualified_leads, converted_leads, paid_sales, revenue,
    repeat_purchases, repeat_revenue
  )
  select e.user_account_id, e.creative_id, e.direction_id, e.day, e.leads, e.qualified_leads, e.converted_leads,
    e.paid_sales, e.revenue, e.repeat_purchases, e.repeat_revenue
  from private.analytics_expected_rollup(p_user_account_id) e;

  insert into private.analytics_lead_totals (
    user_account_id, creative_id, direction_id, leads, qualified_leads, converted_leads, paid_sales, revenue,
    repeat_purchases, repeat_revenue
  )
  select r.user_account_id, r.creative_id, r.direction_id, sum(r.leads), sum(r.qualified_leads),
    sum(r.converted_leads), sum(r.paid_sales), sum(r.revenue), sum(r.repeat_purchases), sum(r.repeat_revenue)
  from private.analytics_lead_daily r
  where r.user_account_id = p_user_account_id
  group by 1, 2, 3;

  insert into private.analytics_spend_totals (user_account_id, creative_id, currency, amount, spend_rows)
  select s.user_account_id, s.creative_id, s.currency, sum(s.amount), count(*)
  from public.ad_spend_daily s
  where s.user_account_id = p_user_account_id
  group by 1, 2, 3;

  perform private.analytics_rebuild_sale_dates(p_user_account_id);
  perform private.analytics_stage_rebuild(p_user_account_id);
end $$;
comment on function private.analytics_rebuild(uuid) is
  'Replace one account''s funnel rollups (daily, totals, spend totals, sale-date rollup), lead money and '
  'purchase credits with numbers computed from scratch (also the way a new analytics time zone takes effect). '
  'Repair tool and bulk-load path (load with triggers off, then rebuild); blocks writes to '
  'leads/sales/purchases/ad_spend_daily while it runs.';
revoke all on function private.analytics_rebuild(uuid) from public;
grant execute on function private.analytics_rebuild(uuid) to service_role;
