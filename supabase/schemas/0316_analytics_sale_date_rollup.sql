-- Analytics by sale date: what was sold in a period (amoCRM reports sales by close date), next to the lead-date
-- cohort of 0310-0314. Every paid sale of an account is booked on the local day (account's analytics zone) it
-- closed: per creative/direction of its lead, or as unattributed when it has no lead of that account. So for any
-- period, attributed + unattributed revenue of this rollup = the account's paid sales closed in the period.
--
-- Objects:
--   private.analytics_sale_daily       one row per (account, local sale day, attributed, creative, direction):
--                                      paid_sales, revenue, first_sales (leads whose first paid sale is that day)
--   private.analytics_sale_bookings    per paid sale: where it is booked (the lead's bucket, or unattributed)
--   private.analytics_first_sales      per lead with a paid sale: its first paid sale's day and its own day (time
--                                      to sale)
--   private.analytics_sale_bump()      add deltas to one sale-day row
--   private.analytics_book_sale() / analytics_unbook_sale()  book / take back one paid sale
--   private.analytics_refresh_first_sale()  recompute a lead's first paid sale (and the first_sales counters)
--   triggers on public.sales (per row, only when a paid sale appears, disappears or changes amount, lead, close
--   time or account) and public.leads (per row, when creative, direction, creation time or account change)
--   private.analytics_expected_sale_rollup()  the same numbers from scratch (oracle)
--   private.analytics_rebuild_sale_dates()    replace one account's sale-date rollup (called by analytics_rebuild)
-- A sale's time is closed_at (amoCRM's close time of the won deal); a paid sale without one counts when it was
-- confirmed (confirmed_at), an undated one on 1970-01-01 and first among a lead's sales (products that had sales
-- before amo-roi may lack even created_at). Money is booked to the sale's own account; a lead of another account
-- never gets it.
create table private.analytics_sale_daily (
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  day date not null,
  -- false: paid sales without a product lead of the account (creative/direction null): unattributed revenue.
  attributed boolean not null,
  creative_id uuid,
  direction_id uuid,
  paid_sales integer not null default 0,
  revenue numeric not null default 0,
  first_sales integer not null default 0,
  constraint analytics_sale_daily_key unique nulls not distinct (user_account_id, day, attributed, creative_id, direction_id)
) with (fillfactor = 80);

comment on table private.analytics_sale_daily is
  'Sale-date rollup per (account, local day the sale closed, attributed, creative, direction): paid sales, '
  'revenue, and first_sales (leads whose first paid sale closed that day). Kept by triggers on sales and leads.';

create table private.analytics_sale_bookings (
  -- sales.id as text (uuid here, other types in products that had the table before amo-roi).
  sale_id text primary key,
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  -- The lead the money is booked on; null = unattributed.
  lead_id bigint,
  creative_id uuid,
  direction_id uuid,
  day date not null,
  sold_at timestamptz,
  amount numeric not null
);

comment on table private.analytics_sale_bookings is
  'Where each paid sale is booked in analytics_sale_daily, so a change takes back exactly what was booked.';

create index analytics_sale_bookings_lead_id_idx on private.analytics_sale_bookings (lead_id);

create index analytics_sale_bookings_user_account_id_idx on private.analytics_sale_bookings (user_account_id);

create table private.analytics_first_sales (
  lead_id bigint primary key,
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  creative_id uuid,
  direction_id uuid,
  -- Local days (account zone) of the lead's creation and of its first paid sale.
  lead_day date not null,
  sale_day date not null,
  sale_id text not null
);

comment on table private.analytics_first_sales is
  'Per lead with a paid sale: the local day of its first paid sale and of its creation (time to sale).';

create index analytics_first_sales_sale_day_idx on private.analytics_first_sales (user_account_id, sale_day);

create index analytics_first_sales_lead_day_idx on private.analytics_first_sales (user_account_id, lead_day);

alter table private.analytics_sale_daily enable row level security;

alter table private.analytics_sale_bookings enable row level security;

alter table private.analytics_first_sales enable row level security;

revoke all on private.analytics_sale_daily, private.analytics_sale_bookings, private.analytics_first_sales
  from public, anon, authenticated;

grant select on private.analytics_sale_daily, private.analytics_first_sales to authenticated;

grant select on private.analytics_sale_daily, private.analytics_sale_bookings, private.analytics_first_sales
  to service_role;

create policy "members select" on private.analytics_sale_daily for select to authenticated
  using (user_account_id in (select private.my_user_account_ids()));

create policy "members select" on private.analytics_first_sales for select to authenticated
  using (user_account_id in (select private.my_user_account_ids()));

-- ---------------------------------------------------------------------------------------------------------------
-- Building blocks
-- ---------------------------------------------------------------------------------------------------------------
create or replace function private.analytics_sale_bump(
  p_user_account_id uuid,
  p_day date,
  p_attributed boolean,
  p_creative_id uuid,
  p_direction_id uuid,
  p_paid_sales integer,
  p_revenue numeric,
  p_first_sales integer
)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  -- While applying, the delta waits in the buffer and the row is written in key order at the end (0232).
  if private.apply_depth() > 0 then
    insert into private.apply_write_buffer (
      xact_id, kind, user_account_id, day, attributed, creative_id, direction_id, paid_sales, revenue, first_sales
    ) values (
      txid_current(), 'sale', p_user_account_id, p_day, p_attributed, p_creative_id, p_direction_id, p_paid_sales,
      p_revenue, p_first_sales
    );
    return;
  end if;
  insert into private.analytics_sale_daily as r (
    user_account_id, day, attributed, creative_id, direction_id, paid_sales, revenue, first_sales
  ) values (
    p_user_account_id, p_day, p_attributed, p_creative_id, p_direction_id, p_paid_sales, p_revenue, p_first_sales
  )
  on conflict (user_account_id, day, attributed, creative_id, direction_id) do update set
    paid_sales = r.paid_sales + excluded.paid_sales,
    revenue = r.revenue + excluded.revenue,
    first_sales = r.first_sales + excluded.first_sales;
end $$;
comment on function private.analytics_sale_bump(uuid, date, boolean, uuid, uuid, integer, numeric, integer) is
  'Add deltas to one sale-date rollup row, creating it when missing. Internal to the sale-date triggers. Inside '
  'an apply entry point the delta is buffered and written when the apply ends (private.flush_apply_writes).';
revoke all on function private.analytics_sale_bump(uuid,date,boolean,uuid,uuid,integer,numeric,integer) from public;

create or replace function private.analytics_unbook_sale(p_sale_id text)
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  b private.analytics_sale_bookings;
begin
  delete from private.analytics_sale_bookings where sale_id = p_sale_id returning * into b;
  -- GUARD: nothing booked, or the account is being deleted (its rollup goes with it).
  if b.sale_id is null or not exists (select 1 from public.user_accounts a where a.id = b.user_account_id) then
    return b.lead_id;
  end if;
  perform private.analytics_sale_bump(b.user_account_id, b.day, b.lead_id is not null, b.creative_id,
    b.direction_id, -1, -b.amount, 0);
  return b.lead_id;
end $$;
comment on function private.analytics_unbook_sale(text) is
  'Take one paid sale back out of the sale-date rollup (as it was booked); returns the lead it was booked on.';
revoke all on function private.analytics_unbook_sale(text) from public;

create or replace function private.analytics_book_sale(
  p_sale_id text,
  p_user_account_id uuid,
  p_lead_id bigint,
  p_sold_at timestamptz,
  p_amount numeric
)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_lead_id bigint;
  v_creative_id uuid;
  v_direction_id uuid;
  v_day date;
begin
  -- GUARD: no account (or one being deleted): nothing to keep.
  if p_user_account_id is null
     or not exists (select 1 from public.user_accounts a where a.id = p_user_account_id) then
    return;
  end if;
  -- FOR SHARE: a concurrent move of the lead waits for us (and we for it), as in analytics_apply_lead_money.
  if p_lead_id is not null then
    select l.id, l.creative_id, l.direction_id into v_lead_id, v_creative_id, v_direction_id
    from public.leads l
    where l.id = p_lead_id and l.user_account_id = p_user_account_id
    for share;
  end if;
  v_day := private.analytics_day(p_sold_at, private.analytics_time_zone(p_user_account_id));
  insert into private.analytics_sale_bookings (
    sale_id, user_account_id, lead_id, creative_id, direction_id, day, sold_at, amount
  ) values (p_sale_id, p_user_account_id, v_lead_id, v_creative_id, v_direction_id, v_day, p_sold_at, p_amount);
  perform private.analytics_sale_bump(p_user_account_id, v_day, v_lead_id is not null, v_creative_id,
    v_direction_id, 1, p_amount, 0);
end $$;
comment on function private.analytics_book_sale(text, uuid, bigint, timestamptz, numeric) is
  'Book one paid sale on its local close day: in its lead''s creative/direction when the lead is of the same '
  'account, else as unattributed.';
revoke all on function private.analytics_book_sale(text,uuid,bigint,timestamp with time zone,numeric) from public;

create or replace function private.analytics_refresh_first_sale(p_lead_id bigint)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_old private.analytics_first_sales;
  v_new private.analytics_first_sales;
begin
  -- Two transactions booking sales of one lead take turns here, so the second sees the first one's first sale
  -- (both may hold the lead FOR SHARE at once). Leads share 1024 lock slots, so a bulk statement holds at most
  -- 1024 locks (one per lead would exhaust the lock table: max_locks_per_transaction).
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('analytics_first_sale'),
    pg_catalog.hashtext(p_lead_id::text) & 1023);
  select * into v_old from private.analytics_first_sales where lead_id = p_lead_id;
  -- The earliest paid sale booked on the lead (ties by sale id).
  select b.lead_id, b.user_account_id, b.creative_id, b.direction_id,
    private.analytics_day(l.created_at, private.analytics_time_zone(b.user_account_id)), b.day, b.sale_id
    into v_new
  from private.analytics_sale_bookings b
  join public.leads l on l.id = b.lead_id
  where b.lead_id = p_lead_id
  order by b.sold_at nulls first, b.sale_id
  limit 1;

  if v_old is not distinct from v_new then
    return;
  end if;
  if v_old.lead_id is not null then
    delete from private.analytics_first_sales where lead_id = p_lead_id;
    if exists (select 1 from public.user_accounts a where a.id = v_old.user_account_id) then
      perform private.analytics_sale_bump(v_old.user_account_id, v_old.sale_day, true, v_old.creative_id,
        v_old.direction_id, 0, 0, -1);
    end if;
  end if;
  if v_new.lead_id is not null then
    insert into private.analytics_first_sales values (v_new.*);
    perform private.analytics_sale_bump(v_new.user_account_id, v_new.sale_day, true, v_new.creative_id,
      v_new.direction_id, 0, 0, 1);
  end if;
end $$;
comment on function private.analytics_refresh_first_sale(bigint) is
  'Recompute which paid sale is a lead''s first (from its bookings) and move its first_sales count and time-to-'
  'sale row accordingly; removes them when the lead has no paid sale left.';
revoke all on function private.analytics_refresh_first_sale(bigint) from public;

-- ---------------------------------------------------------------------------------------------------------------
-- Triggers
-- ---------------------------------------------------------------------------------------------------------------
create or replace function private.analytics_sale_date_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_old_lead bigint;
begin
  if tg_op in ('UPDATE', 'DELETE') then
    v_old_lead := private.analytics_unbook_sale(old.id::text);
  end if;
  if tg_op in ('INSERT', 'UPDATE') and new.status = 'paid' then
    perform private.analytics_book_sale(new.id::text, new.user_account_id, new.lead_id,
      coalesce(new.closed_at, new.confirmed_at), coalesce(new.amount, 0));
  end if;
  if v_old_lead is not null then
    perform private.analytics_refresh_first_sale(v_old_lead);
  end if;
  if tg_op <> 'DELETE' and new.lead_id is not null and new.lead_id is distinct from v_old_lead then
    perform private.analytics_refresh_first_sale(new.lead_id);
  end if;
  return null;
end $$;
comment on function private.analytics_sale_date_changed() is
  'Trigger (after insert/update/delete on sales, per row, only when paid sales are involved): re-book the sale '
  'on its local close day and refresh its lead''s first paid sale.';
revoke all on function private.analytics_sale_date_changed() from public;

create trigger analytics_sale_date_inserted after insert on public.sales
  for each row when (new.status = 'paid')
  execute function private.analytics_sale_date_changed();

create trigger analytics_sale_date_updated
  after update of status, amount, lead_id, closed_at, confirmed_at, user_account_id on public.sales
  for each row
  when (
    (old.status = 'paid' or new.status = 'paid')
    and (old.status is distinct from new.status or old.amount is distinct from new.amount
      or old.lead_id is distinct from new.lead_id or old.user_account_id is distinct from new.user_account_id
      or coalesce(old.closed_at, old.confirmed_at) is distinct from coalesce(new.closed_at, new.confirmed_at))
  )
  execute function private.analytics_sale_date_changed();

create trigger analytics_sale_date_deleted after delete on public.sales
  for each row when (old.status = 'paid')
  execute function private.analytics_sale_date_changed();

create or replace function private.analytics_lead_sales_moved()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  s record;
begin
  -- The lead's paid sales follow it to its new creative/direction (or out of an account it left).
  for s in
    select x.id, x.user_account_id, x.lead_id, coalesce(x.closed_at, x.confirmed_at) as sold_at,
      coalesce(x.amount, 0) as amount
    from public.sales x
    where x.lead_id = new.id and x.status = 'paid'
    order by x.id
  loop
    perform private.analytics_unbook_sale(s.id::text);
    perform private.analytics_book_sale(s.id::text, s.user_account_id, s.lead_id, s.sold_at, s.amount);
  end loop;
  perform private.analytics_refresh_first_sale(new.id);
  return null;
end $$;
comment on function private.analytics_lead_sales_moved() is
  'Trigger (after update on leads, per row, when creative, direction, created_at or account changed): re-book '
  'the lead''s paid sales under its new key and refresh its first paid sale (its own day may have moved).';
revoke all on function private.analytics_lead_sales_moved() from public;

create trigger analytics_lead_sales_moved
  after update of creative_id, direction_id, created_at, user_account_id on public.leads
  for each row
  when (
    old.creative_id is distinct from new.creative_id
    or old.direction_id is distinct from new.direction_id
    or old.created_at is distinct from new.created_at
    or old.user_account_id is distinct from new.user_account_id
  )
  execute function private.analytics_lead_sales_moved();

-- ---------------------------------------------------------------------------------------------------------------
-- From scratch
-- ---------------------------------------------------------------------------------------------------------------
create or replace function private.analytics_expected_sale_bookings(p_user_account_id uuid)
returns table (
  sale_id text, user_account_id uuid, lead_id bigint, creative_id uuid, direction_id uuid, day date,
  sold_at timestamptz, amount numeric, lead_created_at timestamptz
)
language sql
stable
set search_path = ''
as $$
  select s.id::text, s.user_account_id, l.id, l.creative_id, l.direction_id,
    private.analytics_day(coalesce(s.closed_at, s.confirmed_at), private.analytics_time_zone(p_user_account_id)),
    coalesce(s.closed_at, s.confirmed_at), coalesce(s.amount, 0), l.created_at
  from public.sales s
  left join public.leads l on l.id = s.lead_id and l.user_account_id = s.user_account_id
  where s.user_account_id = p_user_account_id and s.status = 'paid'
$$;
comment on function private.analytics_expected_sale_bookings(uuid) is
  'From scratch: where each paid sale of an account belongs in the sale-date rollup.';
revoke all on function private.analytics_expected_sale_bookings(uuid) from public;
grant execute on function private.analytics_expected_sale_bookings(uuid) to service_role;

create or replace function private.analytics_expected_sale_rollup(p_user_account_id uuid)
returns table (
  day date, attributed boolean, creative_id uuid, direction_id uuid, paid_sales bigint, revenue numeric,
  first_sales bigint
)
language sql
stable
set search_path = ''
as $$
  with b as (
    select * from private.analytics_expected_sale_bookings(p_user_account_id)
  ), firsts as (
    select distinct on (b.lead_id) b.sale_id
    from b
    where b.lead_id is not null
    order by b.lead_id, b.sold_at nulls first, b.sale_id
  )
  select b.day, b.lead_id is not null, b.creative_id, b.direction_id, count(*), sum(b.amount), count(f.sale_id)
  from b
  left join firsts f on f.sale_id = b.sale_id
  group by 1, 2, 3, 4
$$;
comment on function private.analytics_expected_sale_rollup(uuid) is
  'From scratch: what private.analytics_sale_daily must hold for an account (oracle of the sale-date triggers).';
revoke all on function private.analytics_expected_sale_rollup(uuid) from public;
grant execute on function private.analytics_expected_sale_rollup(uuid) to service_role;

create or replace function private.analytics_rebuild_sale_dates(p_user_account_id uuid)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  delete from private.analytics_sale_daily where user_account_id = p_user_account_id;
  delete from private.analytics_sale_bookings where user_account_id = p_user_account_id;
  delete from private.analytics_first_sales where user_account_id = p_user_account_id;

  insert into private.analytics_sale_bookings (
    sale_id, user_account_id, lead_id, creative_id, direction_id, day, sold_at, amount
  )
  select b.sale_id, b.user_account_id, b.lead_id, b.creative_id, b.direction_id, b.day, b.sold_at, b.amount
  from private.analytics_expected_sale_bookings(p_user_account_id) b;

  insert into private.analytics_first_sales (
    lead_id, user_account_id, creative_id, direction_id, lead_day, sale_day, sale_id
  )
  select distinct on (b.lead_id) b.lead_id, b.user_account_id, b.creative_id, b.direction_id,
    private.analytics_day(b.lead_created_at, private.analytics_time_zone(p_user_account_id)), b.day, b.sale_id
  from private.analytics_expected_sale_bookings(p_user_account_id) b
  where b.lead_id is not null
  order by b.lead_id, b.sold_at nulls first, b.sale_id;

  insert into private.analytics_sale_daily (
    user_account_id, day, attributed, creative_id, direction_id, paid_sales, revenue, first_sales
  )
  select p_user_account_id, e.day, e.attributed, e.creative_id, e.direction_id, e.paid_sales, e.revenue,
    e.first_sales
  from private.analytics_expected_sale_rollup(p_user_account_id) e;
end $$;
comment on function private.analytics_rebuild_sale_dates(uuid) is
  'Replace one account''s sale-date rollup, bookings and first sales with numbers computed from scratch. Called '
  'by private.analytics_rebuild, which holds the locks.';
revoke all on function private.analytics_rebuild_sale_dates(uuid) from public;
