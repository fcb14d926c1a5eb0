-- Keeping the stage rollups current: writers mark leads dirty, one fold at a time adds the differences.
--   private.analytics_stage_mark_*()       trigger functions: append changed leads to analytics_stage_dirty
--   private.analytics_stage_apply(...)     add (new - held) contributions of some leads to the rollups, store new
--   private.analytics_stage_fold(n)        fold up to n dirty rows (one fold at a time; others return at once)
--   private.analytics_stage_fold_all(t)    fold until nothing is dirty or the budget is spent (pg_cron)
--   private.analytics_stage_rebuild(acc)   one account from scratch (time zone change, repair)
-- Why this shape: an applier's cost is one small insert per changed lead and it never locks a rollup row; the
-- fold is set-based (one statement for many leads) and alone, so rollup rows are written in one order by one
-- transaction. Measured: README, "Stage tiles".

create or replace function private.analytics_stage_apply(p_lead_ids bigint[])
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_done integer;
begin
  -- Marks made later in this transaction must not be skipped as "already marked" (mark_history/mark_lead).
  perform set_config('amo_roi.stage_dirty_lead', '', true);
  with fresh as materialized (
    select c.* from private.analytics_stage_contributions(p_lead_ids) c
    -- GUARD: an account being deleted keeps nothing.
    where exists (select 1 from public.user_accounts a where a.id = c.user_account_id)
  ), held as materialized (
    select s.* from private.analytics_stage_leads s where s.lead_id = any (p_lead_ids)
  ), delta as materialized (
    select f.user_account_id, f.creative_id, f.direction_id, f.day, p.*, 1 as sign
    from fresh f cross join lateral unnest(f.parts) p
    union all
    select s.user_account_id, s.creative_id, s.direction_id, s.day, p.*, -1
    from held s cross join lateral unnest(s.parts) p
  ), counts as (
    select d.user_account_id, g.day, d.creative_id, d.direction_id, d.pipeline_id, d.status_id,
      sum(d.sign * d.in_stage)::integer as in_stage, sum(d.sign * d.entered)::integer as entered,
      sum(d.sign * d.furthest)::integer as furthest, sum(d.sign * d.open_visits)::integer as open_visits
    from delta d
    cross join lateral (values (d.day), ('infinity'::date)) g (day)
    where d.bucket = -1
    group by 1, 2, 3, 4, 5, 6
    having sum(d.sign * d.in_stage) <> 0 or sum(d.sign * d.entered) <> 0 or sum(d.sign * d.furthest) <> 0
      or sum(d.sign * d.open_visits) <> 0
  ), counts_written as (
    insert into private.analytics_stage_counts as r (
      user_account_id, day, creative_id, direction_id, pipeline_id, status_id, in_stage, entered, furthest,
      open_visits
    )
    select * from counts
    where exists (select 1 from public.user_accounts a where a.id = counts.user_account_id)
    order by 1, 2, 3, 4, 5, 6
    on conflict (user_account_id, day, creative_id, direction_id, pipeline_id, status_id) do update set
      in_stage = r.in_stage + excluded.in_stage,
      entered = r.entered + excluded.entered,
      furthest = r.furthest + excluded.furthest,
      open_visits = r.open_visits + excluded.open_visits
    returning 1
  ), hist as (
    select d.user_account_id, g.per_creative, g.day,
      case when g.per_creative then d.creative_id end as creative_id,
      case when g.per_creative then d.direction_id end as direction_id,
      d.pipeline_id, d.status_id, d.bucket,
      sum(d.sign * d.completed_visits)::integer as visits, sum(d.sign * d.seconds_sum) as seconds_sum
    from delta d
    cross join lateral (values (true, d.day), (true, 'infinity'::date), (false, d.day), (false, 'infinity'::date))
      g (per_creative, day)
    where d.bucket >= 0
    group by 1, 2, 3, 4, 5, 6, 7, 8
    having sum(d.sign * d.completed_visits) <> 0 or sum(d.sign * d.seconds_sum) <> 0
  ), hist_written as (
    insert into private.analytics_stage_hist as r (
      user_account_id, per_creative, day, creative_id, direction_id, pipeline_id, status_id, bucket, visits,
      seconds_sum
    )
    select * from hist
    where exists (select 1 from public.user_accounts a where a.id = hist.user_account_id)
    order by 1, 2, 3, 4, 5, 6, 7, 8
    on conflict (user_account_id, per_creative, day, creative_id, direction_id, pipeline_id, status_id, bucket)
    do update set visits = r.visits + excluded.visits, seconds_sum = r.seconds_sum + excluded.seconds_sum
    returning 1
  ), kept as (
    insert into private.analytics_stage_leads as s (lead_id, user_account_id, creative_id, direction_id, day, parts)
    select f.lead_id, f.user_account_id, f.creative_id, f.direction_id, f.day, f.parts
    from fresh f where f.parts <> '{}'
    on conflict (lead_id) do update set user_account_id = excluded.user_account_id,
      creative_id = excluded.creative_id, direction_id = excluded.direction_id, day = excluded.day,
      parts = excluded.parts
    returning 1
  ), dropped as (
    -- Leads that count no more (deleted, or without stage and history now).
    delete from private.analytics_stage_leads s
    using (
      select u.id from unnest(p_lead_ids) u (id)
      left join fresh f on f.lead_id = u.id and f.parts <> '{}'
      where f.lead_id is null
    ) gone
    where s.lead_id = gone.id
    returning 1
  )
  -- Data-modifying CTEs run to completion whether or not this reads them.
  select 1 into v_done;
end $$;
comment on function private.analytics_stage_apply(bigint[]) is
  'Bring the stage rollups up to date for the given leads: add each lead''s new contribution minus the one held '
  'for it (private.analytics_stage_leads), then hold the new one. Internal to the fold and the rebuild.';
revoke all on function private.analytics_stage_apply(bigint[]) from public;

create or replace function private.analytics_stage_fold(p_max_rows integer default 20000)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_lead_ids bigint[];
begin
  -- GUARD: one fold at a time, so rollup rows have a single writer; a second caller leaves the work to it.
  if not pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext('analytics_stage_fold')) then
    return 0;
  end if;
  with taken as (
    delete from private.analytics_stage_dirty d
    where d.ctid = any (array(select x.ctid from private.analytics_stage_dirty x limit p_max_rows))
    returning d.lead_id
  )
  select coalesce(array_agg(distinct t.lead_id), '{}') into v_lead_ids from taken t;
  if cardinality(v_lead_ids) > 0 then
    perform private.analytics_stage_apply(v_lead_ids);
  end if;
  return cardinality(v_lead_ids);
end $$;
comment on function private.analytics_stage_fold(integer) is
  'Fold up to p_max_rows dirty marks into the stage rollups (set-based); returns the leads folded, 0 when '
  'nothing was dirty or another fold is running.';
revoke all on function private.analytics_stage_fold(integer) from public;
grant execute on function private.analytics_stage_fold(integer) to service_role;

create or replace function private.analytics_stage_fold_all(p_budget interval default interval '50 seconds')
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_deadline timestamptz := clock_timestamp() + p_budget;
  v_folded integer;
  v_total integer := 0;
begin
  loop
    v_folded := private.analytics_stage_fold();
    v_total := v_total + v_folded;
    exit when v_folded = 0 or clock_timestamp() > v_deadline;
  end loop;
  return v_total;
end $$;
comment on function private.analytics_stage_fold_all(interval) is
  'Fold dirty stage marks chunk by chunk until none is left or the budget is spent (pg_cron every minute; the '
  'webhook intake calls private.analytics_stage_fold after each apply). Returns the leads folded.';
revoke all on function private.analytics_stage_fold_all(interval) from public;
grant execute on function private.analytics_stage_fold_all(interval) to service_role;

create or replace function private.analytics_stage_rebuild(p_user_account_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_lead_ids bigint[];
begin
  -- The fold must not interleave with a rebuild of the same rows.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('analytics_stage_fold'));
  delete from private.analytics_stage_counts where user_account_id = p_user_account_id;
  delete from private.analytics_stage_hist where user_account_id = p_user_account_id;
  delete from private.analytics_stage_leads where user_account_id = p_user_account_id;
  delete from private.analytics_stage_dirty where user_account_id = p_user_account_id;
  select coalesce(array_agg(l.id), '{}') into v_lead_ids from public.leads l where l.user_account_id = p_user_account_id;
  perform private.analytics_stage_apply(v_lead_ids);
end $$;
comment on function private.analytics_stage_rebuild(uuid) is
  'Replace one account''s stage rollups with the from-scratch numbers (time zone change, repair).';
revoke all on function private.analytics_stage_rebuild(uuid) from public;
grant execute on function private.analytics_stage_rebuild(uuid) to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- Dirty marks
-- ---------------------------------------------------------------------------------------------------------------
create or replace function private.analytics_stage_mark_history()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- One mark per lead per transaction is enough (the fold reads the lead's final state): the usual apply writes
  -- a history row and then the lead, both for the same lead.
  if tg_op <> 'DELETE' and new.lead_id is not null
    and current_setting('amo_roi.stage_dirty_lead', true) is distinct from new.lead_id::text then
    insert into private.analytics_stage_dirty (lead_id, user_account_id) values (new.lead_id, new.user_account_id);
    perform set_config('amo_roi.stage_dirty_lead', new.lead_id::text, true);
  end if;
  if tg_op <> 'INSERT' and old.lead_id is not null
    and (tg_op = 'DELETE' or old.lead_id is distinct from new.lead_id) then
    insert into private.analytics_stage_dirty (lead_id, user_account_id) values (old.lead_id, old.user_account_id);
  end if;
  return null;
end $$;
comment on function private.analytics_stage_mark_history() is
  'Trigger (status history insert/delete, update of what a visit depends on): mark the lead(s) dirty.';
revoke all on function private.analytics_stage_mark_history() from public;

create trigger analytics_stage_history_inserted after insert on public.amocrm_lead_status_history
  for each row when (new.lead_id is not null) execute function private.analytics_stage_mark_history();

create trigger analytics_stage_history_updated after update on public.amocrm_lead_status_history
  for each row when (old.lead_id is distinct from new.lead_id or old.user_account_id is distinct from new.user_account_id
    or old.amocrm_lead_id is distinct from new.amocrm_lead_id or old.changed_at is distinct from new.changed_at
    or old.created_at is distinct from new.created_at or old.to_status_id is distinct from new.to_status_id
    or old.to_pipeline_id is distinct from new.to_pipeline_id or old.from_status_id is distinct from new.from_status_id
    or old.from_pipeline_id is distinct from new.from_pipeline_id)
  execute function private.analytics_stage_mark_history();

create trigger analytics_stage_history_deleted after delete on public.amocrm_lead_status_history
  for each row when (old.lead_id is not null) execute function private.analytics_stage_mark_history();

create or replace function private.analytics_stage_mark_lead()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into private.analytics_stage_dirty (lead_id, user_account_id)
  select new.id, coalesce(new.user_account_id, old.user_account_id);
  perform set_config('amo_roi.stage_dirty_lead', new.id::text, true);
  return null;
end $$;
comment on function private.analytics_stage_mark_lead() is
  'Trigger (lead update of its stage, bucket or account): mark the lead dirty.';
revoke all on function private.analytics_stage_mark_lead() from public;

-- The usual apply inserts the history row first: then the lead is marked already and the WHEN clause (no
-- function call) skips it.
create trigger analytics_stage_lead_updated after update on public.leads
  for each row when ((old.current_status_id is distinct from new.current_status_id
    or old.current_pipeline_id is distinct from new.current_pipeline_id
    or old.creative_id is distinct from new.creative_id or old.direction_id is distinct from new.direction_id
    or old.created_at is distinct from new.created_at or old.user_account_id is distinct from new.user_account_id)
    and current_setting('amo_roi.stage_dirty_lead', true) is distinct from new.id::text)
  execute function private.analytics_stage_mark_lead();

create or replace function private.analytics_stage_mark_leads()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    -- A new lead counts once it has a stage (its history, inserted later, marks it again).
    insert into private.analytics_stage_dirty (lead_id, user_account_id)
    select n.id, n.user_account_id from new_leads n
    where n.user_account_id is not null and n.current_status_id is not null;
  else
    -- GUARD: during an account's cascade delete its rollups go with it.
    insert into private.analytics_stage_dirty (lead_id, user_account_id)
    select o.id, o.user_account_id from old_leads o
    where exists (select 1 from private.analytics_stage_leads s where s.lead_id = o.id)
      and exists (select 1 from public.user_accounts a where a.id = o.user_account_id);
  end if;
  return null;
end $$;
comment on function private.analytics_stage_mark_leads() is
  'Trigger (per statement, lead insert/delete): mark inserted leads with a stage and deleted counted leads dirty.';
revoke all on function private.analytics_stage_mark_leads() from public;

create trigger analytics_stage_leads_inserted after insert on public.leads
  referencing new table as new_leads for each statement execute function private.analytics_stage_mark_leads();

create trigger analytics_stage_leads_deleted after delete on public.leads
  referencing old table as old_leads for each statement execute function private.analytics_stage_mark_leads();

create or replace function private.analytics_stage_mark_catalog()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_accounts uuid[];
begin
  -- Stage order decides each lead's furthest stage: an account whose stages were added, removed or moved in
  -- stage order has all its counted leads refolded. A sync that rewrites the same order changes nothing.
  if tg_op = 'INSERT' then
    select array_agg(distinct n.user_account_id) into v_accounts from changed_new n;
  elsif tg_op = 'DELETE' then
    select array_agg(distinct o.user_account_id) into v_accounts from changed_old o;
  else
    select array_agg(distinct n.user_account_id) into v_accounts
    from changed_new n join changed_old o on o.id = n.id
    where (n.user_account_id, n.pipeline_id, n.status_id, n.sort_order, n.status_type)
      is distinct from (o.user_account_id, o.pipeline_id, o.status_id, o.sort_order, o.status_type);
  end if;
  insert into private.analytics_stage_dirty (lead_id, user_account_id)
  select s.lead_id, s.user_account_id from private.analytics_stage_leads s
  where s.user_account_id = any (v_accounts);
  return null;
end $$;
comment on function private.analytics_stage_mark_catalog() is
  'Trigger (per statement on the stage catalog): when stages were added, removed or moved in stage order, mark '
  'the account''s counted leads dirty.';
revoke all on function private.analytics_stage_mark_catalog() from public;

create trigger analytics_stage_catalog_inserted after insert on public.amocrm_pipeline_stages
  referencing new table as changed_new for each statement execute function private.analytics_stage_mark_catalog();

create trigger analytics_stage_catalog_updated after update on public.amocrm_pipeline_stages
  referencing new table as changed_new old table as changed_old
  for each statement execute function private.analytics_stage_mark_catalog();

create trigger analytics_stage_catalog_deleted after delete on public.amocrm_pipeline_stages
  referencing old table as changed_old for each statement execute function private.analytics_stage_mark_catalog();
