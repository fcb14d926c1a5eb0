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
  with zones as (
    -- Each account's analytics zone, looked up once per statement.
    select z.user_account_id, private.analytics_time_zone(z.user_account_id) as time_zone
    from (select distinct n.user_account_id from new_leads n where n.user_account_id is not null) z
  ), deltas as (
    select n.user_account_id, n.creative_id, n.direction_id, private.analytics_day(n.created_at, z.time_zone) as day,
      count(*)::integer as leads, (count(*) filter (where n.is_qualified))::integer as qualified_leads
    from new_leads n
    join zones z on z.user_account_id = n.user_account_id
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
revoke all on function private.analytics_leads_inserted() from public;

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
  with zones as (
    select z.user_account_id, private.analytics_time_zone(z.user_account_id) as time_zone
    from (select distinct o.user_account_id from old_leads o where o.user_account_id is not null) z
  ), deltas as (
    select x.user_account_id, x.creative_id, x.direction_id, x.day,
      -sum(x.leads)::integer as leads, -sum(x.qualified)::integer as qualified_leads,
      -sum(x.converted)::integer as converted_leads, -sum(x.paid_sales)::integer as paid_sales,
      -sum(x.revenue) as revenue, -sum(x.repeat_purchases)::integer as repeat_purchases,
      -sum(x.repeat_revenue) as repeat_revenue
    from (
      -- The lead itself where it is, its money where that is booked.
      select o.user_account_id, o.creative_id, o.direction_id, private.analytics_day(o.created_at, z.time_zone) as day,
        1 as leads, coalesce(o.is_qualified, false)::integer as qualified, 0 as converted, 0 as paid_sales,
        0::numeric as revenue, 0 as repeat_purchases, 0::numeric as repeat_revenue
      from old_leads o
      join zones z on z.user_account_id = o.user_account_id
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
revoke all on function private.analytics_leads_deleted() from public;

create or replace function private.analytics_lead_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_old_q integer := coalesce(old.is_qualified, false)::integer;
  v_new_q integer := coalesce(new.is_qualified, false)::integer;
  v_old_zone text := private.analytics_time_zone(old.user_account_id);
  v_new_zone text := case when new.user_account_id is not distinct from old.user_account_id then v_old_zone
    else private.analytics_time_zone(new.user_account_id) end;
  v_old_day date := private.analytics_day(old.created_at, v_old_zone);
  v_new_day date := private.analytics_day(new.created_at, v_new_zone);
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
revoke all on function private.analytics_lead_changed() from public;

create trigger analytics_leads_inserted after insert on public.leads
  referencing new table as new_leads
  for each statement execute function private.analytics_leads_inserted();

create trigger analytics_leads_deleted after delete on public.leads
  referencing old table as old_leads
  for each statement execute function private.analytics_leads_deleted();

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
