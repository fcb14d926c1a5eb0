-- Funnel rollup: lead, qualification, conversion and revenue counts per (user account, creative, direction,
-- lead day) and per (account, creative, direction) for all time, plus spend per creative for all time, kept
-- current by triggers, so that the funnel functions read a few thousand rows instead of aggregating a million
-- leads.
--
-- Objects:
--   private.analytics_lead_daily        one row per (account, creative, direction, UTC day of lead creation):
--                                       date-range reads; members read their accounts' rows (RLS)
--   private.analytics_lead_totals       the same without the day: all-time reads (RLS)
--   private.analytics_spend_totals      ad spend per (creative, currency) for all time (RLS)
--   private.analytics_lead_money        per product lead: paid sales and revenue, repeat purchases and revenue,
--                                       and the rollup row they are booked in
--   private.analytics_repeat_credits    which lead each product-recorded purchase is credited to
--   private.analytics_day()             the bucket day of a timestamp (UTC)
--   private.analytics_bump()            add deltas to one lead bucket (daily row and totals row)
--   private.analytics_apply_lead_money() add money deltas to one lead (money row + its bucket)
--   private.analytics_recompute_phones() re-credit the product-recorded purchases of some phones
--   triggers on public.leads (insert/delete per statement, update per row), public.sales (per row),
--   public.purchases (per statement) and public.ad_spend_daily (per row)
--   private.analytics_expected_credits() / analytics_expected_rollup()  the same numbers from scratch
--   private.analytics_rebuild()          replace one account's rollups with the from-scratch numbers
--
-- Metric semantics (what the rollup counts for the leads of a bucket):
--   leads             product leads (public.leads) of the account; leads without creative/direction have null keys
--   qualified_leads   leads with is_qualified (sticky: a lead lost after qualifying stays qualified)
--   converted_leads   leads with at least one paid sale (public.sales.status = 'paid'; 'pending' = won then
--                     reopened and 'cancelled' = won then lost do not count)
--   paid_sales, revenue   count and sum(amount) of the paid sales attributed to the leads (sales.lead_id)
--   repeat_purchases, repeat_revenue   purchases the product recorded itself (purchases.amocrm_deal_id is null)
--                     whose normalized phone matches a lead: each is credited once, to the newest lead of the
--                     account with that phone created at or before purchase_date — the same "newest lead before
--                     it" rule deals are attributed by; purchases older than every matching lead are not credited
--                     (the ad did not bring them); an undated purchase goes to the newest lead with the phone
--   Leads without a user account are not counted.
--
-- Write path (O(1) per changed row; every trigger function is security definer because members write leads,
-- sales, purchases and spend through RLS but may not write the rollups):
--   leads insert/delete   per statement (transition table): one grouped upsert per rollup for the whole statement
--   leads update          per row, only when is_qualified / creative / direction / created_at / account / phone
--                         changed (WHEN clause: a status-only update never calls a function); the webhook path
--                         (is_qualified flips) is two HOT upserts: the lead's daily row and its totals row
--   sales                 per row, only when a paid sale with a lead appears, disappears or changes amount/lead;
--                         locks the lead row FOR SHARE so a concurrent creative change cannot strand the money in
--                         the old bucket
--   purchases             per statement; re-credits the affected phones (bounded by the purchases of one phone)
--   ad_spend_daily        per row: the spend totals
-- During an account's cascade delete the triggers do nothing (the rollup rows are deleted by their own foreign
-- key), and money of a lead that is gone is ignored (its contribution left with it).
-- Queries over transition tables are written to stay index lookups whatever the statement size: plpgsql caches
-- their plan from the first call, so a plan made for a 100k-row backfill must not seq-scan purchases or
-- lead money on every later single-row insert (measured: 4.5 ms instead of 0.65 ms per lead).
-- Known limit: a lead and a product purchase with the same phone inserted concurrently in two transactions can
-- leave that purchase's credit stale; private.analytics_rebuild() repairs an account exactly.
--
-- Design decision, measured with bench/analytics.ts (1M leads in one account, 2.5M history rows, 88k sales,
-- 300 creatives x 60 active days, 2 cores; reads are client round trips as a member through RLS, p95):
--   * no rollup, aggregating leads and sales per request: 176 ms for 30 days, 867 ms for all time — the 50 ms
--     target is out of reach, so the counts are maintained incrementally;
--   * daily rollup: 30 days 7.5 ms; all time from the daily rows 28.6 ms, but that grows with creatives x active
--     days (a second year, or three times the creatives, breaks 50 ms) — hence the all-time totals next to it:
--     all time 8.8 ms, for one more HOT upsert per changed lead;
--   * write path: UPDATE leads set current_status_id + is_qualified with the triggers = 1.36x a plain status
--     UPDATE (client p50 0.72 vs 0.53 ms; server 279 vs 194 µs, 1.44x); a paid sale insert 1.32x one without a
--     lead — under the 2x budget;
--   * UPDATE triggers per row with WHEN, not per statement: a statement trigger with transition tables cannot
--     have a column list or WHEN, so it runs on every status-only webhook update (+15% measured on those);
--   * INSERT/DELETE triggers per statement: a 100k-lead insert took 2.9 s, against 116 s with a row trigger (per-
--     row upserts of the same rows inside one transaction pile up row versions); the price is a single-lead
--     insert at 0.65 ms instead of 0.47 ms (0.41 ms without analytics);
--   * repeat-revenue credits are state (a table), not deltas: re-crediting a phone is idempotent and correct in
--     any order of lead/purchase changes.
-- Nothing destructive: new objects only; the initial fill at the end reads existing data. Idempotent.

-- ---------------------------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------------------------

create table if not exists private.analytics_lead_daily (
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  -- No foreign keys on creative/direction: deleting one sets the leads' key to null (their trigger moves the
  -- counts), and the emptied row is harmless.
  creative_id uuid,
  direction_id uuid,
  day date not null,
  leads integer not null default 0,
  qualified_leads integer not null default 0,
  converted_leads integer not null default 0,
  paid_sales integer not null default 0,
  revenue numeric not null default 0,
  repeat_purchases integer not null default 0,
  repeat_revenue numeric not null default 0,
  constraint analytics_lead_daily_key unique nulls not distinct (user_account_id, creative_id, direction_id, day)
) with (fillfactor = 80);
comment on table private.analytics_lead_daily is
  'Funnel rollup per (account, creative, direction, UTC day of lead creation); maintained by triggers on leads, '
  'sales and purchases. Counters are never indexed, so every bump is a HOT update.';
-- Date-range reads; the key above serves the account foreign key.
create index if not exists analytics_lead_daily_account_day_idx on private.analytics_lead_daily (user_account_id, day);

create table if not exists private.analytics_lead_totals (
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  creative_id uuid,
  direction_id uuid,
  leads integer not null default 0,
  qualified_leads integer not null default 0,
  converted_leads integer not null default 0,
  paid_sales integer not null default 0,
  revenue numeric not null default 0,
  repeat_purchases integer not null default 0,
  repeat_revenue numeric not null default 0,
  constraint analytics_lead_totals_key unique nulls not distinct (user_account_id, creative_id, direction_id)
) with (fillfactor = 70);
comment on table private.analytics_lead_totals is
  'All-time funnel counts per (account, creative, direction): the sum of analytics_lead_daily over days, kept by '
  'the same trigger bumps, so all-time reads cost O(creatives) whatever the history length.';

create table if not exists private.analytics_spend_totals (
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  creative_id uuid not null,
  currency text not null,
  amount numeric not null default 0,
  -- How many ad_spend_daily rows the amount sums; 0 = no spend (the row stays after its spend is deleted).
  spend_rows integer not null default 0,
  constraint analytics_spend_totals_key unique (creative_id, currency)
) with (fillfactor = 70);
comment on table private.analytics_spend_totals is
  'All-time ad spend per creative and currency: the sum of public.ad_spend_daily, kept by its trigger.';
create index if not exists analytics_spend_totals_user_account_id_idx on private.analytics_spend_totals (user_account_id);

create table if not exists private.analytics_lead_money (
  lead_id bigint primary key,
  -- The rollup row this lead's money is booked in. Within one multi-row UPDATE of leads every row is changed
  -- before the first row trigger fires, so money arriving meanwhile is booked under the lead's new key; the
  -- lead's own trigger then moves the money from where it is booked, not from where the lead was.
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  creative_id uuid,
  direction_id uuid,
  day date not null,
  paid_sales integer not null default 0,
  revenue numeric not null default 0,
  repeat_purchases integer not null default 0,
  repeat_revenue numeric not null default 0
);
comment on table private.analytics_lead_money is
  'Money attributed to one product lead (paid sales, credited product purchases). No foreign key to leads on '
  'purpose: the leads delete trigger needs these rows after the lead is gone, then removes them itself.';
create index if not exists analytics_lead_money_user_account_id_idx on private.analytics_lead_money (user_account_id);

create table if not exists private.analytics_repeat_credits (
  -- purchases.id as text: uuid in this schema, serial in products that had the table before amo-roi.
  purchase_id text primary key,
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  phone_e164 text not null,
  lead_id bigint not null,
  amount numeric not null
);
comment on table private.analytics_repeat_credits is
  'The lead each product-recorded purchase (purchases.amocrm_deal_id is null) is credited to, by phone.';
create index if not exists analytics_repeat_credits_phone_idx on private.analytics_repeat_credits (user_account_id, phone_e164);
create index if not exists analytics_repeat_credits_lead_id_idx on private.analytics_repeat_credits (lead_id);

alter table private.analytics_lead_daily enable row level security;
alter table private.analytics_lead_totals enable row level security;
alter table private.analytics_spend_totals enable row level security;
alter table private.analytics_lead_money enable row level security;
alter table private.analytics_repeat_credits enable row level security;
revoke all on private.analytics_lead_daily, private.analytics_lead_totals, private.analytics_spend_totals,
  private.analytics_lead_money, private.analytics_repeat_credits from public, anon, authenticated;
-- Members read the rollups through the security_invoker views and functions in public; nobody writes them
-- except the triggers (security definer).
grant select on private.analytics_lead_daily, private.analytics_lead_totals, private.analytics_spend_totals
  to authenticated;
grant select on private.analytics_lead_daily, private.analytics_lead_totals, private.analytics_spend_totals,
  private.analytics_lead_money, private.analytics_repeat_credits to service_role;
drop policy if exists "members select" on private.analytics_lead_daily;
create policy "members select" on private.analytics_lead_daily for select to authenticated
  using (user_account_id in (select private.my_user_account_ids()));
drop policy if exists "members select" on private.analytics_lead_totals;
create policy "members select" on private.analytics_lead_totals for select to authenticated
  using (user_account_id in (select private.my_user_account_ids()));
drop policy if exists "members select" on private.analytics_spend_totals;
create policy "members select" on private.analytics_spend_totals for select to authenticated
  using (user_account_id in (select private.my_user_account_ids()));

-- ---------------------------------------------------------------------------------------------------------------
-- Building blocks
-- ---------------------------------------------------------------------------------------------------------------

create or replace function private.analytics_day(p_at timestamptz)
returns date
language sql
immutable
parallel safe
set search_path = ''
as $$
  -- Products that had leads before amo-roi may lack created_at on old rows: those count on 1970-01-01.
  select coalesce((p_at at time zone 'UTC')::date, date '1970-01-01')
$$;
comment on function private.analytics_day(timestamptz) is
  'The rollup day of a timestamp: its date in UTC (date-range arguments of the funnel functions are UTC days); '
  '1970-01-01 for a missing timestamp.';

create or replace function private.analytics_bump(
  p_user_account_id uuid,
  p_creative_id uuid,
  p_direction_id uuid,
  p_day date,
  p_leads integer,
  p_qualified_leads integer,
  p_converted_leads integer,
  p_paid_sales integer,
  p_revenue numeric,
  p_repeat_purchases integer,
  p_repeat_revenue numeric
)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  insert into private.analytics_lead_daily as r (
    user_account_id, creative_id, direction_id, day, leads, qualified_leads, converted_leads, paid_sales, revenue,
    repeat_purchases, repeat_revenue
  ) values (
    p_user_account_id, p_creative_id, p_direction_id, p_day, p_leads, p_qualified_leads, p_converted_leads,
    p_paid_sales, p_revenue, p_repeat_purchases, p_repeat_revenue
  )
  on conflict (user_account_id, creative_id, direction_id, day) do update set
    leads = r.leads + excluded.leads,
    qualified_leads = r.qualified_leads + excluded.qualified_leads,
    converted_leads = r.converted_leads + excluded.converted_leads,
    paid_sales = r.paid_sales + excluded.paid_sales,
    revenue = r.revenue + excluded.revenue,
    repeat_purchases = r.repeat_purchases + excluded.repeat_purchases,
    repeat_revenue = r.repeat_revenue + excluded.repeat_revenue;

  insert into private.analytics_lead_totals as t (
    user_account_id, creative_id, direction_id, leads, qualified_leads, converted_leads, paid_sales, revenue,
    repeat_purchases, repeat_revenue
  ) values (
    p_user_account_id, p_creative_id, p_direction_id, p_leads, p_qualified_leads, p_converted_leads,
    p_paid_sales, p_revenue, p_repeat_purchases, p_repeat_revenue
  )
  on conflict (user_account_id, creative_id, direction_id) do update set
    leads = t.leads + excluded.leads,
    qualified_leads = t.qualified_leads + excluded.qualified_leads,
    converted_leads = t.converted_leads + excluded.converted_leads,
    paid_sales = t.paid_sales + excluded.paid_sales,
    revenue = t.revenue + excluded.revenue,
    repeat_purchases = t.repeat_purchases + excluded.repeat_purchases,
    repeat_revenue = t.repeat_revenue + excluded.repeat_revenue;
end $$;
comment on function private.analytics_bump(uuid, uuid, uuid, date, integer, integer, integer, integer, numeric, integer, numeric) is
  'Add deltas to one lead bucket: its daily rollup row and its all-time totals row, creating them when missing. '
  'Internal to the analytics triggers.';

create or replace function private.analytics_apply_lead_money(
  p_lead_id bigint,
  p_paid_sales integer,
  p_revenue numeric,
  p_repeat_purchases integer,
  p_repeat_revenue numeric
)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_lead record;
  v_booked record;
begin
  -- FOR SHARE: a concurrent move of this lead to another bucket (creative/direction/day) waits for us and we
  -- for it, so the money always lands in the bucket the lead is in once both have committed.
  select l.user_account_id, l.creative_id, l.direction_id, l.created_at into v_lead
  from public.leads l
  join public.user_accounts a on a.id = l.user_account_id
  where l.id = p_lead_id
  for share of l;
  -- GUARD: the lead is gone (its whole contribution was removed with it) or its account is being deleted.
  if not found then
    return;
  end if;

  -- A lead's first money is booked under its current key; later money goes where the earlier money is.
  insert into private.analytics_lead_money as m (
    lead_id, user_account_id, creative_id, direction_id, day, paid_sales, revenue, repeat_purchases, repeat_revenue
  ) values (
    p_lead_id, v_lead.user_account_id, v_lead.creative_id, v_lead.direction_id,
    private.analytics_day(v_lead.created_at), p_paid_sales, p_revenue, p_repeat_purchases, p_repeat_revenue
  )
  on conflict (lead_id) do update set
    paid_sales = m.paid_sales + excluded.paid_sales,
    revenue = m.revenue + excluded.revenue,
    repeat_purchases = m.repeat_purchases + excluded.repeat_purchases,
    repeat_revenue = m.repeat_revenue + excluded.repeat_revenue
  returning m.user_account_id, m.creative_id, m.direction_id, m.day, m.paid_sales into v_booked;

  perform private.analytics_bump(
    v_booked.user_account_id, v_booked.creative_id, v_booked.direction_id, v_booked.day,
    0, 0,
    -- The lead converts when its first paid sale arrives and stops when its last one goes.
    (v_booked.paid_sales > 0)::integer - (v_booked.paid_sales - p_paid_sales > 0)::integer,
    p_paid_sales, p_revenue, p_repeat_purchases, p_repeat_revenue);
end $$;
comment on function private.analytics_apply_lead_money(bigint, integer, numeric, integer, numeric) is
  'Add paid-sale / repeat-purchase deltas to one product lead and to the rollup row it is in (conversion flips '
  'when its paid sales go 0 → 1 or 1 → 0). No-op for a lead that no longer exists.';

create or replace function private.analytics_recompute_phones(p_user_account_ids uuid[], p_phones text[])
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_pair record;
  v_delta record;
  v_purchase_ids text[];
  v_lead_ids bigint[];
  v_amounts numeric[];
begin
  for v_pair in
    select distinct u.user_account_id, u.phone_e164
    from unnest(p_user_account_ids, p_phones) as u (user_account_id, phone_e164)
    where u.user_account_id is not null and u.phone_e164 is not null
      -- GUARD: nothing to keep for an account that is being deleted.
      and exists (select 1 from public.user_accounts a where a.id = u.user_account_id)
    order by 1, 2
  loop
    -- Two transactions re-crediting one phone take turns; the second one then sees the first one's result.
    -- Phones share 1024 lock slots per account, so a bulk statement holds at most 1024 locks (one per phone
    -- would exhaust the lock table: max_locks_per_transaction).
    perform pg_catalog.pg_advisory_xact_lock(
      pg_catalog.hashtext('analytics_phone:' || v_pair.user_account_id),
      pg_catalog.hashtext(v_pair.phone_e164) & 1023);

    -- Where each product-recorded purchase of this phone belongs now: the newest lead with the phone created at
    -- or before the purchase.
    select coalesce(array_agg(w.purchase_id), '{}'), coalesce(array_agg(w.lead_id), '{}'),
           coalesce(array_agg(w.amount), '{}')
      into v_purchase_ids, v_lead_ids, v_amounts
    from (
      select pu.id::text as purchase_id, coalesce(pu.amount, 0) as amount,
        (select l.id from public.leads l
         where l.user_account_id = v_pair.user_account_id and l.phone_e164 = v_pair.phone_e164
           and l.created_at <= coalesce(pu.purchase_date, 'infinity'::timestamptz)
         order by l.created_at desc, l.id desc
         limit 1) as lead_id
      from public.purchases pu
      where pu.user_account_id = v_pair.user_account_id and pu.client_phone_e164 = v_pair.phone_e164
        and pu.amocrm_deal_id is null
    ) w
    where w.lead_id is not null;

    -- Net change per lead: wanted credits minus current ones (of this phone, or of these purchases under the
    -- phone they had before an update moved them here).
    for v_delta in
      select x.lead_id, sum(x.n)::integer as n, sum(x.amount) as amount
      from (
        select u.lead_id, 1 as n, u.amount
        from unnest(v_lead_ids, v_amounts) as u (lead_id, amount)
        union all
        select c.lead_id, -1, -c.amount
        from private.analytics_repeat_credits c
        where (c.user_account_id = v_pair.user_account_id and c.phone_e164 = v_pair.phone_e164)
           or c.purchase_id = any (v_purchase_ids)
      ) x
      group by x.lead_id
      having sum(x.n) <> 0 or sum(x.amount) <> 0
      order by x.lead_id
    loop
      perform private.analytics_apply_lead_money(v_delta.lead_id, 0, 0, v_delta.n, v_delta.amount);
    end loop;

    delete from private.analytics_repeat_credits c
    where (c.user_account_id = v_pair.user_account_id and c.phone_e164 = v_pair.phone_e164)
       or c.purchase_id = any (v_purchase_ids);
    insert into private.analytics_repeat_credits (purchase_id, user_account_id, phone_e164, lead_id, amount)
    select u.purchase_id, v_pair.user_account_id, v_pair.phone_e164, u.lead_id, u.amount
    from unnest(v_purchase_ids, v_lead_ids, v_amounts) as u (purchase_id, lead_id, amount);
  end loop;
end $$;
comment on function private.analytics_recompute_phones(uuid[], text[]) is
  'Re-credit the product-recorded purchases of the given (account, phone) pairs to the newest lead with that '
  'phone created at or before each purchase, moving repeat revenue between leads by the net difference.';

revoke execute on function private.analytics_day(timestamptz) from public, anon;
grant execute on function private.analytics_day(timestamptz) to authenticated, service_role;
revoke execute on function private.analytics_bump(uuid, uuid, uuid, date, integer, integer, integer, integer, numeric, integer, numeric)
  from public, anon, authenticated;
revoke execute on function private.analytics_apply_lead_money(bigint, integer, numeric, integer, numeric)
  from public, anon, authenticated;
revoke execute on function private.analytics_recompute_phones(uuid[], text[]) from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- Triggers on public.leads
-- ---------------------------------------------------------------------------------------------------------------

create or replace function private.analytics_leads_inserted()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_accounts uuid[];
  v_phones text[];
begin
  with deltas as (
    select n.user_account_id, n.creative_id, n.direction_id, private.analytics_day(n.created_at) as day,
      count(*)::integer as leads, (count(*) filter (where n.is_qualified))::integer as qualified_leads
    from new_leads n
    where n.user_account_id is not null
    group by 1, 2, 3, 4
  ), daily as (
    insert into private.analytics_lead_daily as r (user_account_id, creative_id, direction_id, day, leads, qualified_leads)
    select d.user_account_id, d.creative_id, d.direction_id, d.day, d.leads, d.qualified_leads
    from deltas d
    order by 1, 2, 3, 4
    on conflict (user_account_id, creative_id, direction_id, day) do update set
      leads = r.leads + excluded.leads,
      qualified_leads = r.qualified_leads + excluded.qualified_leads
  )
  insert into private.analytics_lead_totals as t (user_account_id, creative_id, direction_id, leads, qualified_leads)
  select d.user_account_id, d.creative_id, d.direction_id, sum(d.leads), sum(d.qualified_leads)
  from deltas d
  group by 1, 2, 3
  order by 1, 2, 3
  on conflict (user_account_id, creative_id, direction_id) do update set
    leads = t.leads + excluded.leads,
    qualified_leads = t.qualified_leads + excluded.qualified_leads;

  -- A new lead can take over product-recorded purchases of its phone made after it was created. LIMIT keeps the
  -- probe an index lookup per phone (see the header on cached plans).
  select array_agg(p.user_account_id), array_agg(p.phone_e164) into v_accounts, v_phones
  from (
    select distinct n.user_account_id, n.phone_e164
    from new_leads n
    where n.user_account_id is not null and n.phone_e164 is not null
  ) p
  cross join lateral (
    select 1 from public.purchases pu
    where pu.user_account_id = p.user_account_id and pu.client_phone_e164 = p.phone_e164 and pu.amocrm_deal_id is null
    limit 1
  ) has_purchases;
  if v_accounts is not null then
    perform private.analytics_recompute_phones(v_accounts, v_phones);
  end if;
  return null;
end $$;
comment on function private.analytics_leads_inserted() is
  'Trigger (after insert on leads, per statement): count the new leads into the daily and total rollups with '
  'one grouped upsert each, and re-credit product purchases of their phones.';

create or replace function private.analytics_leads_deleted()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ids bigint[] := array(select o.id from old_leads o);
  v_accounts uuid[];
  v_phones text[];
begin
  -- Sales of these leads were already detached by the foreign key (set null) before this statement trigger;
  -- that path skipped them because the leads were gone, so the money rows are still whole here.
  -- Lead money is looked up with = any (array): an index scan whatever the statement size.
  with deltas as (
    select x.user_account_id, x.creative_id, x.direction_id, x.day,
      -sum(x.leads)::integer as leads, -sum(x.qualified)::integer as qualified_leads,
      -sum(x.converted)::integer as converted_leads, -sum(x.paid_sales)::integer as paid_sales,
      -sum(x.revenue) as revenue, -sum(x.repeat_purchases)::integer as repeat_purchases,
      -sum(x.repeat_revenue) as repeat_revenue
    from (
      -- The lead itself where it is, its money where that is booked.
      select o.user_account_id, o.creative_id, o.direction_id, private.analytics_day(o.created_at) as day,
        1 as leads, coalesce(o.is_qualified, false)::integer as qualified, 0 as converted, 0 as paid_sales,
        0::numeric as revenue, 0 as repeat_purchases, 0::numeric as repeat_revenue
      from old_leads o
      where o.user_account_id is not null
      union all
      select m.user_account_id, m.creative_id, m.direction_id, m.day, 0, 0, (m.paid_sales > 0)::integer,
        m.paid_sales, m.revenue, m.repeat_purchases, m.repeat_revenue
      from private.analytics_lead_money m
      where m.lead_id = any (v_ids)
    ) x
    -- GUARD: in an account's cascade delete its rollup rows go with it; never re-create them.
    where exists (select 1 from public.user_accounts a where a.id = x.user_account_id)
    group by 1, 2, 3, 4
  ), daily as (
    insert into private.analytics_lead_daily as r (
      user_account_id, creative_id, direction_id, day, leads, qualified_leads, converted_leads, paid_sales, revenue,
      repeat_purchases, repeat_revenue
    )
    select d.user_account_id, d.creative_id, d.direction_id, d.day, d.leads, d.qualified_leads, d.converted_leads,
      d.paid_sales, d.revenue, d.repeat_purchases, d.repeat_revenue
    from deltas d
    order by 1, 2, 3, 4
    on conflict (user_account_id, creative_id, direction_id, day) do update set
      leads = r.leads + excluded.leads,
      qualified_leads = r.qualified_leads + excluded.qualified_leads,
      converted_leads = r.converted_leads + excluded.converted_leads,
      paid_sales = r.paid_sales + excluded.paid_sales,
      revenue = r.revenue + excluded.revenue,
      repeat_purchases = r.repeat_purchases + excluded.repeat_purchases,
      repeat_revenue = r.repeat_revenue + excluded.repeat_revenue
  )
  insert into private.analytics_lead_totals as t (
    user_account_id, creative_id, direction_id, leads, qualified_leads, converted_leads, paid_sales, revenue,
    repeat_purchases, repeat_revenue
  )
  select d.user_account_id, d.creative_id, d.direction_id, sum(d.leads), sum(d.qualified_leads),
    sum(d.converted_leads), sum(d.paid_sales), sum(d.revenue), sum(d.repeat_purchases), sum(d.repeat_revenue)
  from deltas d
  group by 1, 2, 3
  order by 1, 2, 3
  on conflict (user_account_id, creative_id, direction_id) do update set
    leads = t.leads + excluded.leads,
    qualified_leads = t.qualified_leads + excluded.qualified_leads,
    converted_leads = t.converted_leads + excluded.converted_leads,
    paid_sales = t.paid_sales + excluded.paid_sales,
    revenue = t.revenue + excluded.revenue,
    repeat_purchases = t.repeat_purchases + excluded.repeat_purchases,
    repeat_revenue = t.repeat_revenue + excluded.repeat_revenue;

  delete from private.analytics_lead_money m where m.lead_id = any (v_ids);

  -- Purchases credited to a deleted lead go to the next newest lead with that phone, if any.
  select array_agg(p.user_account_id), array_agg(p.phone_e164) into v_accounts, v_phones
  from (
    select distinct c.user_account_id, c.phone_e164
    from private.analytics_repeat_credits c
    where c.lead_id = any (v_ids)
  ) p;
  if v_accounts is not null then
    perform private.analytics_recompute_phones(v_accounts, v_phones);
  end if;
  return null;
end $$;
comment on function private.analytics_leads_deleted() is
  'Trigger (after delete on leads, per statement): take the deleted leads and their money out of the daily and '
  'total rollups, and re-credit the purchases they had.';

create or replace function private.analytics_lead_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_old_q integer := coalesce(old.is_qualified, false)::integer;
  v_new_q integer := coalesce(new.is_qualified, false)::integer;
  v_old_day date := private.analytics_day(old.created_at);
  v_new_day date := private.analytics_day(new.created_at);
  v_old_counted boolean;
  v_new_counted boolean;
  m private.analytics_lead_money;
begin
  -- GUARD: a lead counts while it has an account that is not being deleted.
  v_old_counted := old.user_account_id is not null
    and exists (select 1 from public.user_accounts a where a.id = old.user_account_id);
  v_new_counted := new.user_account_id is not distinct from old.user_account_id and v_old_counted
    or new.user_account_id is not null
      and exists (select 1 from public.user_accounts a where a.id = new.user_account_id);

  if (old.user_account_id, old.creative_id, old.direction_id, v_old_day)
     is not distinct from (new.user_account_id, new.creative_id, new.direction_id, v_new_day) then
    -- Same bucket (the webhook path: qualification flips): one bump.
    if v_old_q <> v_new_q and v_new_counted then
      perform private.analytics_bump(new.user_account_id, new.creative_id, new.direction_id, v_new_day,
        0, v_new_q - v_old_q, 0, 0, 0, 0, 0);
    end if;
  else
    -- The lead moves to another rollup row.
    if v_old_counted then
      perform private.analytics_bump(old.user_account_id, old.creative_id, old.direction_id, v_old_day,
        -1, -v_old_q, 0, 0, 0, 0, 0);
    end if;
    if v_new_counted then
      perform private.analytics_bump(new.user_account_id, new.creative_id, new.direction_id, v_new_day,
        1, v_new_q, 0, 0, 0, 0, 0);
    end if;
  end if;

  -- Its money moves from where it is booked to the lead's new row. Concurrent money writers lock this lead row
  -- (analytics_apply_lead_money), which this UPDATE holds, so the money row cannot change under us.
  select * into m from private.analytics_lead_money where lead_id = old.id;
  if m.lead_id is not null
     and (m.user_account_id, m.creative_id, m.direction_id, m.day)
       is distinct from (new.user_account_id, new.creative_id, new.direction_id, v_new_day) then
    if exists (select 1 from public.user_accounts a where a.id = m.user_account_id) then
      perform private.analytics_bump(m.user_account_id, m.creative_id, m.direction_id, m.day,
        0, 0, -(m.paid_sales > 0)::integer, -m.paid_sales, -m.revenue, -m.repeat_purchases, -m.repeat_revenue);
    end if;
    if v_new_counted then
      perform private.analytics_bump(new.user_account_id, new.creative_id, new.direction_id, v_new_day,
        0, 0, (m.paid_sales > 0)::integer, m.paid_sales, m.revenue, m.repeat_purchases, m.repeat_revenue);
      update private.analytics_lead_money set
        user_account_id = new.user_account_id, creative_id = new.creative_id, direction_id = new.direction_id,
        day = v_new_day
      where lead_id = old.id;
    else
      delete from private.analytics_lead_money where lead_id = old.id;
    end if;
  end if;

  -- Phone, creation time or account decide which lead product purchases are credited to.
  if (old.phone_e164, old.created_at, old.user_account_id) is distinct from (new.phone_e164, new.created_at, new.user_account_id) then
    perform private.analytics_recompute_phones(
      array[old.user_account_id, new.user_account_id], array[old.phone_e164, new.phone_e164]);
  end if;
  return null;
end $$;
comment on function private.analytics_lead_changed() is
  'Trigger (after update on leads, per row, only when qualification, creative, direction, created_at, account or '
  'phone changed): move the lead''s counts and money between rollup rows; re-credit purchases on phone changes.';

revoke execute on function private.analytics_leads_inserted() from public, anon, authenticated;
revoke execute on function private.analytics_leads_deleted() from public, anon, authenticated;
revoke execute on function private.analytics_lead_changed() from public, anon, authenticated;

drop trigger if exists analytics_leads_inserted on public.leads;
create trigger analytics_leads_inserted after insert on public.leads
  referencing new table as new_leads
  for each statement execute function private.analytics_leads_inserted();

drop trigger if exists analytics_leads_deleted on public.leads;
create trigger analytics_leads_deleted after delete on public.leads
  referencing old table as old_leads
  for each statement execute function private.analytics_leads_deleted();

drop trigger if exists analytics_lead_changed on public.leads;
create trigger analytics_lead_changed
  after update of is_qualified, creative_id, direction_id, created_at, user_account_id, phone, chat_id on public.leads
  for each row
  when (
    old.is_qualified is distinct from new.is_qualified
    or old.creative_id is distinct from new.creative_id
    or old.direction_id is distinct from new.direction_id
    or old.created_at is distinct from new.created_at
    or old.user_account_id is distinct from new.user_account_id
    or old.phone_e164 is distinct from new.phone_e164
  )
  execute function private.analytics_lead_changed();

-- ---------------------------------------------------------------------------------------------------------------
-- Triggers on public.sales
-- ---------------------------------------------------------------------------------------------------------------

create or replace function private.analytics_sale_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_old_lead bigint;
  v_old_amount numeric := 0;
  v_new_lead bigint;
  v_new_amount numeric := 0;
begin
  if tg_op in ('UPDATE', 'DELETE') and old.status = 'paid' then
    v_old_lead := old.lead_id;
    v_old_amount := coalesce(old.amount, 0);
  end if;
  if tg_op in ('INSERT', 'UPDATE') and new.status = 'paid' then
    v_new_lead := new.lead_id;
    v_new_amount := coalesce(new.amount, 0);
  end if;

  if v_old_lead is not null and v_old_lead = v_new_lead then
    -- Still paid, same lead: only the amount moved.
    perform private.analytics_apply_lead_money(v_new_lead, 0, v_new_amount - v_old_amount, 0, 0);
  else
    if v_old_lead is not null then
      perform private.analytics_apply_lead_money(v_old_lead, -1, -v_old_amount, 0, 0);
    end if;
    if v_new_lead is not null then
      perform private.analytics_apply_lead_money(v_new_lead, 1, v_new_amount, 0, 0);
    end if;
  end if;
  return null;
end $$;
comment on function private.analytics_sale_changed() is
  'Trigger (after insert/update/delete on sales, per row, only for paid sales with a lead): move paid-sale '
  'count and revenue onto the lead and its rollup row; pending/cancelled sales count for nothing.';
revoke execute on function private.analytics_sale_changed() from public, anon, authenticated;

drop trigger if exists analytics_sale_inserted on public.sales;
create trigger analytics_sale_inserted after insert on public.sales
  for each row when (new.status = 'paid' and new.lead_id is not null)
  execute function private.analytics_sale_changed();

drop trigger if exists analytics_sale_updated on public.sales;
create trigger analytics_sale_updated after update of status, amount, lead_id on public.sales
  for each row
  when (
    (old.status = 'paid' and old.lead_id is not null or new.status = 'paid' and new.lead_id is not null)
    and (old.status, old.amount, old.lead_id) is distinct from (new.status, new.amount, new.lead_id)
  )
  execute function private.analytics_sale_changed();

drop trigger if exists analytics_sale_deleted on public.sales;
create trigger analytics_sale_deleted after delete on public.sales
  for each row when (old.status = 'paid' and old.lead_id is not null)
  execute function private.analytics_sale_changed();

-- ---------------------------------------------------------------------------------------------------------------
-- Triggers on public.purchases
-- ---------------------------------------------------------------------------------------------------------------

create or replace function private.analytics_purchases_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_accounts uuid[];
  v_phones text[];
begin
  -- Only product-recorded purchases (no amoCRM deal) are credited by phone; purchases mirroring a won deal
  -- are already counted through their sale.
  if tg_op = 'INSERT' then
    select array_agg(p.user_account_id), array_agg(p.client_phone_e164) into v_accounts, v_phones
    from (select distinct n.user_account_id, n.client_phone_e164 from new_purchases n
          where n.amocrm_deal_id is null and n.client_phone_e164 is not null) p;
  elsif tg_op = 'DELETE' then
    select array_agg(p.user_account_id), array_agg(p.client_phone_e164) into v_accounts, v_phones
    from (select distinct o.user_account_id, o.client_phone_e164 from old_purchases o
          where o.amocrm_deal_id is null and o.client_phone_e164 is not null) p;
  else
    select array_agg(p.user_account_id), array_agg(p.client_phone_e164) into v_accounts, v_phones
    from (
      select o.user_account_id, o.client_phone_e164
      from old_purchases o join new_purchases n on n.id = o.id
      where o.amocrm_deal_id is null
        and (o.user_account_id, o.client_phone_e164, o.amount, o.purchase_date, o.amocrm_deal_id)
          is distinct from (n.user_account_id, n.client_phone_e164, n.amount, n.purchase_date, n.amocrm_deal_id)
      union
      select n.user_account_id, n.client_phone_e164
      from old_purchases o join new_purchases n on n.id = o.id
      where n.amocrm_deal_id is null
        and (o.user_account_id, o.client_phone_e164, o.amount, o.purchase_date, o.amocrm_deal_id)
          is distinct from (n.user_account_id, n.client_phone_e164, n.amount, n.purchase_date, n.amocrm_deal_id)
    ) p
    where p.client_phone_e164 is not null;
  end if;

  if v_accounts is not null then
    perform private.analytics_recompute_phones(v_accounts, v_phones);
  end if;
  return null;
end $$;
comment on function private.analytics_purchases_changed() is
  'Trigger (after insert/update/delete on purchases, per statement): re-credit product-recorded purchases of '
  'the phones the statement touched.';
revoke execute on function private.analytics_purchases_changed() from public, anon, authenticated;

drop trigger if exists analytics_purchases_inserted on public.purchases;
create trigger analytics_purchases_inserted after insert on public.purchases
  referencing new table as new_purchases
  for each statement execute function private.analytics_purchases_changed();

drop trigger if exists analytics_purchases_updated on public.purchases;
create trigger analytics_purchases_updated after update on public.purchases
  referencing old table as old_purchases new table as new_purchases
  for each statement execute function private.analytics_purchases_changed();

drop trigger if exists analytics_purchases_deleted on public.purchases;
create trigger analytics_purchases_deleted after delete on public.purchases
  referencing old table as old_purchases
  for each statement execute function private.analytics_purchases_changed();

-- ---------------------------------------------------------------------------------------------------------------
-- Trigger on public.ad_spend_daily
-- ---------------------------------------------------------------------------------------------------------------

create or replace function private.analytics_spend_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- GUARD (both sides): during an account's cascade delete its totals go with it; never re-create them.
  if tg_op in ('UPDATE', 'DELETE')
     and exists (select 1 from public.user_accounts a where a.id = old.user_account_id) then
    insert into private.analytics_spend_totals as t (user_account_id, creative_id, currency, amount, spend_rows)
    values (old.user_account_id, old.creative_id, old.currency, -old.amount, -1)
    on conflict (creative_id, currency) do update set
      amount = t.amount + excluded.amount, spend_rows = t.spend_rows + excluded.spend_rows;
  end if;
  if tg_op in ('INSERT', 'UPDATE')
     and exists (select 1 from public.user_accounts a where a.id = new.user_account_id) then
    insert into private.analytics_spend_totals as t (user_account_id, creative_id, currency, amount, spend_rows)
    values (new.user_account_id, new.creative_id, new.currency, new.amount, 1)
    on conflict (creative_id, currency) do update set
      user_account_id = excluded.user_account_id,
      amount = t.amount + excluded.amount, spend_rows = t.spend_rows + excluded.spend_rows;
  end if;
  return null;
end $$;
comment on function private.analytics_spend_changed() is
  'Trigger (after insert/update/delete on ad_spend_daily, per row): keep the all-time spend per creative and '
  'currency.';
revoke execute on function private.analytics_spend_changed() from public, anon, authenticated;

drop trigger if exists analytics_spend_inserted on public.ad_spend_daily;
create trigger analytics_spend_inserted after insert on public.ad_spend_daily
  for each row execute function private.analytics_spend_changed();

drop trigger if exists analytics_spend_updated on public.ad_spend_daily;
create trigger analytics_spend_updated after update of user_account_id, creative_id, currency, amount on public.ad_spend_daily
  for each row
  when ((old.user_account_id, old.creative_id, old.currency, old.amount)
    is distinct from (new.user_account_id, new.creative_id, new.currency, new.amount))
  execute function private.analytics_spend_changed();

drop trigger if exists analytics_spend_deleted on public.ad_spend_daily;
create trigger analytics_spend_deleted after delete on public.ad_spend_daily
  for each row execute function private.analytics_spend_changed();

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
    join public.leads l on l.id = s.lead_id
    where l.user_account_id = p_user_account_id and s.status = 'paid'
    group by s.lead_id
  ), repeats as (
    select c.lead_id, count(*) as n, sum(c.amount) as amount
    from private.analytics_expected_credits(p_user_account_id) c
    group by c.lead_id
  )
  select l.user_account_id, l.creative_id, l.direction_id, private.analytics_day(l.created_at),
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
  select x.lead_id, p_user_account_id, l.creative_id, l.direction_id, private.analytics_day(l.created_at),
    sum(x.paid_sales), sum(x.revenue), sum(x.repeat_purchases), sum(x.repeat_revenue)
  from (
    select s.lead_id, 1 as paid_sales, coalesce(s.amount, 0) as revenue, 0 as repeat_purchases, 0 as repeat_revenue
    from public.sales s
    join public.leads l on l.id = s.lead_id
    where l.user_account_id = p_user_account_id and s.status = 'paid'
    union all
    select c.lead_id, 0, 0, 1, c.amount
    from private.analytics_repeat_credits c
    where c.user_account_id = p_user_account_id
  ) x
  join public.leads l on l.id = x.lead_id
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
end $$;
comment on function private.analytics_rebuild(uuid) is
  'Replace one account''s funnel rollups (daily, totals, spend totals), lead money and purchase credits with '
  'numbers computed from scratch. Repair tool and bulk-load path (load with triggers off, then rebuild); blocks '
  'writes to leads/sales/purchases/ad_spend_daily while it runs.';

revoke execute on function private.analytics_expected_credits(uuid) from public, anon, authenticated;
revoke execute on function private.analytics_expected_rollup(uuid) from public, anon, authenticated;
revoke execute on function private.analytics_rebuild(uuid) from public, anon, authenticated;
grant execute on function private.analytics_expected_credits(uuid) to service_role;
grant execute on function private.analytics_expected_rollup(uuid) to service_role;
grant execute on function private.analytics_rebuild(uuid) to service_role;

-- Initial fill from existing data (a no-op on an empty database; re-running recomputes the same numbers).
-- The spend totals of ad_spend_daily rows written before this migration are part of it.
select private.analytics_rebuild(a.id) from public.user_accounts a;
