-- Lock order of the apply path: concurrent appliers (webhook batches, API snapshots, reconcile pages) never
-- deadlock, because every applying transaction takes its locks in one global order:
--   1. deals: all of them up front, in lock-key order (private.lock_deals), before anything else is locked;
--      a deal lock needed later in the same transaction is only tried, never waited for (private.lock_deal
--      raises lock_not_available instead, the event stays pending for the next pass);
--   2. shared rows, last: the confirm_deals job row and the rollup rows (analytics_lead_daily, _totals,
--      analytics_sale_daily). While applying, writes to them go to private.apply_write_buffer and are made
--      once, when the outermost apply entry point ends (private.end_apply), in key order: jobs by dedupe key,
--      then daily rows, totals rows, sale-day rows, each by its unique key.
-- So a transaction waits for a deal only while it holds nothing but lower deals, and for a shared row only
-- while it holds deals and lower shared rows: no cycle can form. Writes outside an entry point (the product's
-- own updates of leads or sales, a direct call in a test) are not buffered and land at once, as before.
-- Entry points: apply_webhook_events(_slice/_slices), apply_pending_webhook_events, apply_deal_snapshot,
-- mark_deal_missing, reconcile_deal_snapshots. Each calls begin_apply first and end_apply before returning;
-- an error rolls both (and the buffer rows) back with its (sub)transaction.
--
-- The state lives in two custom settings set with session scope (set_config(…, false): a function's own
-- `set search_path` would undo a local one at its exit), tagged with the transaction id so that a value left
-- from an earlier transaction of the session reads as unset; (sub)transaction rollback restores them.
--   amo_roi.apply_depth   '<xid>:<n>'  nesting depth of apply entry points
--   amo_roi.deal_locks    '<xid>'      this transaction has taken its deals up front: later ones are only tried

create or replace function private.deal_lock_key(p_user_account_id uuid, p_amocrm_lead_id bigint)
returns bigint
language plpgsql
immutable
set search_path = ''
as $$
begin
  return hashtextextended(p_user_account_id::text || ':' || (p_amocrm_lead_id % 1024)::text, 0);
end $$;
comment on function private.deal_lock_key(uuid, bigint) is
  'The advisory lock key of a deal (1024 slots per account); the global order of deal locks is this key''s order.';
revoke all on function private.deal_lock_key(uuid,bigint) from public;
grant execute on function private.deal_lock_key(uuid,bigint) to service_role;

create or replace function private.apply_depth()
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_state text := current_setting('amo_roi.apply_depth', true);
begin
  if v_state is null or v_state = '' or split_part(v_state, ':', 1) <> txid_current()::text then
    return 0;
  end if;
  return split_part(v_state, ':', 2)::integer;
end $$;
comment on function private.apply_depth() is
  'How many apply entry points this transaction is inside (0 = not applying: writes are not buffered).';
revoke all on function private.apply_depth() from public;
grant execute on function private.apply_depth() to service_role;

create or replace function private.begin_apply()
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform set_config('amo_roi.apply_depth', txid_current() || ':' || (private.apply_depth() + 1), false);
end $$;
comment on function private.begin_apply() is
  'Enter an apply entry point: from here on shared-row writes are buffered until the outermost one ends.';
revoke all on function private.begin_apply() from public;
grant execute on function private.begin_apply() to service_role;

create or replace function private.end_apply()
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_depth integer := private.apply_depth() - 1;
begin
  perform set_config('amo_roi.apply_depth', txid_current() || ':' || greatest(v_depth, 0), false);
  if v_depth <= 0 then
    perform private.flush_apply_writes();
  end if;
end $$;
comment on function private.end_apply() is
  'Leave an apply entry point; the outermost one writes the buffered shared rows (private.flush_apply_writes).';
revoke all on function private.end_apply() from public;
grant execute on function private.end_apply() to service_role;

-- Deals up front, in key order. Only the first such call of a transaction waits (it holds no other lock yet);
-- a later one (a second slice or POST in the same transaction, after rows were written) only tries, and a deal
-- it cannot get now is left to the event's own private.lock_deal, which then fails fast.
create or replace function private.lock_deals(p_user_account_ids uuid[], p_amocrm_lead_ids bigint[])
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_key bigint;
  v_xact text := txid_current()::text;
  v_may_wait boolean := current_setting('amo_roi.deal_locks', true) is distinct from v_xact;
begin
  for v_key in
    select distinct private.deal_lock_key(u.user_account_id, u.amocrm_lead_id)
    from unnest(p_user_account_ids, p_amocrm_lead_ids) as u (user_account_id, amocrm_lead_id)
    where u.user_account_id is not null and u.amocrm_lead_id is not null
    order by 1
  loop
    if v_may_wait then
      perform pg_advisory_xact_lock(v_key);
    else
      perform pg_try_advisory_xact_lock(v_key);
    end if;
  end loop;
  perform set_config('amo_roi.deal_locks', v_xact, false);
end $$;
comment on function private.lock_deals(uuid[], bigint[]) is
  'Take the locks of these deals in key order (waiting only if this transaction has not taken its deals yet); '
  'after it, private.lock_deal only tries. Called by the apply entry points before any other lock.';
revoke all on function private.lock_deals(uuid[],bigint[]) from public;
grant execute on function private.lock_deals(uuid[],bigint[]) to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- Shared-row writes made while applying, written at the end in key order
-- ---------------------------------------------------------------------------------------------------------------
-- Rows live only inside their transaction (deleted by the flush): kind 'job' (one row per deal id), 'lead'
-- (analytics_bump deltas), 'sale' (analytics_sale_bump deltas).
create table private.apply_write_buffer (
  xact_id bigint not null,
  kind text not null check (kind in ('job', 'lead', 'sale')),
  user_account_id uuid not null,
  job_kind text,
  dedupe_key text,
  run_after timestamptz,
  deal_id bigint,
  creative_id uuid,
  direction_id uuid,
  day date,
  attributed boolean,
  leads integer not null default 0,
  qualified_leads integer not null default 0,
  converted_leads integer not null default 0,
  paid_sales integer not null default 0,
  revenue numeric not null default 0,
  repeat_purchases integer not null default 0,
  repeat_revenue numeric not null default 0,
  first_sales integer not null default 0
) with (autovacuum_vacuum_scale_factor = 0.01);

comment on table private.apply_write_buffer is
  'Shared-row writes (confirmation jobs, rollup deltas) of the applying transaction xact_id, written in key '
  'order when its outermost apply entry point ends (private.flush_apply_writes), then deleted.';

create index apply_write_buffer_xact_idx on private.apply_write_buffer (xact_id);

alter table private.apply_write_buffer enable row level security;

revoke all on private.apply_write_buffer from public, anon, authenticated, service_role;

create or replace function private.buffer_job(
  p_kind text, p_user_account_id uuid, p_ids bigint[], p_dedupe_key text, p_run_after timestamptz
)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  insert into private.apply_write_buffer (xact_id, kind, user_account_id, job_kind, dedupe_key, run_after, deal_id)
  select txid_current(), 'job', p_user_account_id, p_kind, p_dedupe_key, p_run_after, i
  from unnest(p_ids) i;
end $$;
comment on function private.buffer_job(text, uuid, bigint[], text, timestamptz) is
  'While applying: queue these deal ids into the job with this dedupe key at the end of the apply (merged by '
  'private.enqueue_job then).';
revoke all on function private.buffer_job(text,uuid,bigint[],text,timestamp with time zone) from public;
grant execute on function private.buffer_job(text,uuid,bigint[],text,timestamp with time zone) to service_role;

-- Security definer: the rollups are written only by their owner (as the triggers do), and the flush runs at
-- the end of an entry point called by the service role.
create or replace function private.flush_apply_writes()
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_xact bigint := txid_current();
  v_job record;
  v_jobs boolean;
  v_leads boolean;
  v_sales boolean;
begin
  -- What there is to write (a statement per kind saved when it has nothing).
  select coalesce(bool_or(b.kind = 'job'), false), coalesce(bool_or(b.kind = 'lead'), false),
    coalesce(bool_or(b.kind = 'sale'), false)
    into v_jobs, v_leads, v_sales
  from private.apply_write_buffer b where b.xact_id = v_xact;
  if not (v_jobs or v_leads or v_sales) then
    return;
  end if;
  -- STEP: confirmation (and re-read) jobs, by dedupe key; every buffered deal id goes into the payload.
  for v_job in
    select b.job_kind, b.user_account_id, b.dedupe_key, min(b.run_after) as run_after,
      jsonb_agg(distinct b.deal_id) as ids
    from private.apply_write_buffer b
    where v_jobs and b.xact_id = v_xact and b.kind = 'job'
    group by b.dedupe_key, b.job_kind, b.user_account_id
    order by b.dedupe_key, b.job_kind, b.user_account_id
  loop
    perform private.enqueue_job(v_job.job_kind, v_job.user_account_id, jsonb_build_object('ids', v_job.ids),
      v_job.dedupe_key, v_job.run_after);
  end loop;

  -- STEP: lead rollups, daily rows then totals rows, each in key order (as analytics_leads_inserted).
  if v_leads then
    insert into private.analytics_lead_daily as r (
      user_account_id, creative_id, direction_id, day, leads, qualified_leads, converted_leads, paid_sales, revenue,
      repeat_purchases, repeat_revenue
    )
    select b.user_account_id, b.creative_id, b.direction_id, b.day, sum(b.leads)::integer,
      sum(b.qualified_leads)::integer, sum(b.converted_leads)::integer, sum(b.paid_sales)::integer, sum(b.revenue),
      sum(b.repeat_purchases)::integer, sum(b.repeat_revenue)
    from private.apply_write_buffer b
    where b.xact_id = v_xact and b.kind = 'lead'
    group by 1, 2, 3, 4
    order by 1, 2, 3, 4
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
    )
    select b.user_account_id, b.creative_id, b.direction_id, sum(b.leads)::integer,
      sum(b.qualified_leads)::integer, sum(b.converted_leads)::integer, sum(b.paid_sales)::integer, sum(b.revenue),
      sum(b.repeat_purchases)::integer, sum(b.repeat_revenue)
    from private.apply_write_buffer b
    where b.xact_id = v_xact and b.kind = 'lead'
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
  end if;

  -- STEP: sale-date rollup rows, in key order.
  if v_sales then
    insert into private.analytics_sale_daily as r (
      user_account_id, day, attributed, creative_id, direction_id, paid_sales, revenue, first_sales
    )
    select b.user_account_id, b.day, b.attributed, b.creative_id, b.direction_id, sum(b.paid_sales)::integer,
      sum(b.revenue), sum(b.first_sales)::integer
    from private.apply_write_buffer b
    where b.xact_id = v_xact and b.kind = 'sale'
    group by 1, 2, 3, 4, 5
    order by 1, 2, 3, 4, 5
    on conflict (user_account_id, day, attributed, creative_id, direction_id) do update set
      paid_sales = r.paid_sales + excluded.paid_sales,
      revenue = r.revenue + excluded.revenue,
      first_sales = r.first_sales + excluded.first_sales;
  end if;

  delete from private.apply_write_buffer b where b.xact_id = v_xact;
end $$;
comment on function private.flush_apply_writes() is
  'Write this transaction''s buffered shared rows once, in the global order: jobs by dedupe key (ids merged), '
  'then analytics_lead_daily, analytics_lead_totals and analytics_sale_daily rows, each by key; empty the buffer.';
revoke all on function private.flush_apply_writes() from public;
grant execute on function private.flush_apply_writes() to service_role;
