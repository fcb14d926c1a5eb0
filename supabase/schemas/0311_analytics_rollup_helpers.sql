-- ---------------------------------------------------------------------------------------------------------------
-- Building blocks
-- ---------------------------------------------------------------------------------------------------------------
create or replace function private.analytics_day(p_at timestamptz, p_time_zone text default 'UTC')
returns date
language sql
immutable
parallel safe
set search_path = ''
as $$
  -- Products that had leads before amo-roi may lack created_at on old rows: those count on 1970-01-01.
  select coalesce((p_at at time zone p_time_zone)::date, date '1970-01-01')
$$;
comment on function private.analytics_day(timestamptz, text) is
  'The rollup day of a timestamp: its local date in the account''s analytics time zone (see '
  'private.analytics_time_zone; the date-range arguments of the funnel functions are such days); 1970-01-01 '
  'for a missing timestamp.';
revoke all on function private.analytics_day(timestamp with time zone, text) from public;
grant execute on function private.analytics_day(timestamp with time zone, text) to authenticated;
grant execute on function private.analytics_day(timestamp with time zone, text) to service_role;

create or replace function private.analytics_time_zone(p_user_account_id uuid)
returns text
language sql
stable
set search_path = ''
as $$
  select coalesce(
    (select coalesce(a.analytics_timezone, c.account_timezone)
     from public.user_accounts a
     left join amocrm.connections c on c.user_account_id = a.id
     where a.id = p_user_account_id),
    'UTC')
$$;
comment on function private.analytics_time_zone(uuid) is
  'The zone of an account''s analytics days: its own choice (user_accounts.analytics_timezone), else its amoCRM '
  'account''s (read at connect and sync), else UTC. Internal to the analytics triggers (they run as owner).';
revoke all on function private.analytics_time_zone(uuid) from public;

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
  -- While applying, the delta waits in the buffer and the rows are written in key order at the end (0232).
  if private.apply_depth() > 0 then
    insert into private.apply_write_buffer (
      xact_id, kind, user_account_id, creative_id, direction_id, day, leads, qualified_leads, converted_leads,
      paid_sales, revenue, repeat_purchases, repeat_revenue
    ) values (
      txid_current(), 'lead', p_user_account_id, p_creative_id, p_direction_id, p_day, p_leads, p_qualified_leads,
      p_converted_leads, p_paid_sales, p_revenue, p_repeat_purchases, p_repeat_revenue
    );
    return;
  end if;
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
  'Internal to the analytics triggers. Inside an apply entry point the deltas are buffered and written when '
  'the apply ends (private.flush_apply_writes).';
revoke all on function private.analytics_bump(uuid,uuid,uuid,date,integer,integer,integer,integer,numeric,integer,numeric) from public;

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
  select l.user_account_id, l.creative_id, l.direction_id, l.created_at,
    private.analytics_time_zone(l.user_account_id) as time_zone into v_lead
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
    private.analytics_day(v_lead.created_at, v_lead.time_zone), p_paid_sales, p_revenue, p_repeat_purchases,
    p_repeat_revenue
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
revoke all on function private.analytics_apply_lead_money(bigint,integer,numeric,integer,numeric) from public;

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
revoke all on function private.analytics_recompute_phones(uuid[],text[]) from public;
