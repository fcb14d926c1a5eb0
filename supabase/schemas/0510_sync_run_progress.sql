-- Bookkeeping verbs for the schedules (reconcile, backfill, webhook health) on top of amocrm.sync_runs and
-- the webhook columns of amocrm.connections (0410_sync_runs_and_health.sql):
--   private.record_sync_progress(run, …)      add a page's counters, move the cursor
--   private.start_backfill(account)           open a backfill run and queue its first page, atomically
--   private.backfill_missing_lead_ids(…)      product leads' amoCRM ids the mirror has no state for yet
--   private.record_webhook_check(…)           what the health check saw and whether it re-subscribed
create or replace function private.record_sync_progress(
  p_run_id bigint,
  p_cursor jsonb default '{}'::jsonb,
  p_pages integer default 0,
  p_leads integer default 0,
  p_healed integer default 0,
  p_errors integer default 0,
  p_details jsonb default '{}'::jsonb
)
returns void
language sql
volatile
set search_path = ''
as $$
  update amocrm.sync_runs set
    cursor = cursor || coalesce(p_cursor, '{}'::jsonb),
    pages = pages + p_pages,
    leads = leads + p_leads,
    healed = healed + p_healed,
    errors = errors + p_errors,
    details = details || coalesce(p_details, '{}'::jsonb)
  where id = p_run_id
$$;
comment on function private.record_sync_progress(bigint, jsonb, integer, integer, integer, integer, jsonb) is
  'Add one step''s pages/leads/healed/errors to a sync run and merge its cursor and details.';
revoke all on function private.record_sync_progress(bigint,jsonb,integer,integer,integer,integer,jsonb) from public;
grant execute on function private.record_sync_progress(bigint,jsonb,integer,integer,integer,integer,jsonb) to service_role;

-- Cold start: every lead of the account, a page per job, so no single edge invocation runs long. The first
-- page is queued in the same transaction as the run, so a run never exists without its next step.
create or replace function private.start_backfill(p_user_account_id uuid, p_to bigint default null)
returns table (run_id bigint, job_id bigint)
language plpgsql
volatile
set search_path = ''
as $$
declare
  -- The bound is a time on amoCRM's clock: unless given, the first page asks amoCRM (never our clock).
  v_to bigint := p_to;
  v_cursor jsonb := jsonb_build_object('phase', 'scan', 'created_from', 0, 'page', 1, 'after_id', 0, 'step', 0,
    'to', v_to);
begin
  if not exists (select 1 from amocrm.connections c where c.user_account_id = p_user_account_id) then
    raise exception using errcode = 'P0002', message = format('no amoCRM connection for user account %s', p_user_account_id);
  end if;
  run_id := private.start_sync_run(p_user_account_id, 'backfill', v_cursor);
  job_id := private.enqueue_job('backfill_page', p_user_account_id,
    jsonb_build_object('run_id', run_id, 'cursor', v_cursor), 'backfill:' || run_id);
  return next;
end $$;
comment on function private.start_backfill(uuid, bigint) is
  'Open a backfill sync run (leads created up to p_to; by default amoCRM''s time at the first page) and queue '
  'its first backfill_page job.';
revoke all on function private.start_backfill(uuid,bigint) from public;
grant execute on function private.start_backfill(uuid,bigint) to service_role;

create or replace function private.backfill_missing_lead_ids(p_user_account_id uuid, p_after_id bigint, p_limit integer default 250)
returns setof bigint
language sql
stable
set search_path = ''
as $$
  select distinct l.amocrm_lead_id
  from public.leads l
  where l.user_account_id = p_user_account_id
    and l.amocrm_lead_id > p_after_id
    and not exists (
      select 1 from public.amocrm_deals d
      where d.user_account_id = p_user_account_id and d.amocrm_lead_id = l.amocrm_lead_id
        and d.amocrm_updated_at is not null)
  order by 1
  limit p_limit
$$;
comment on function private.backfill_missing_lead_ids(uuid, bigint, integer) is
  'amoCRM lead ids the product stored (leads.amocrm_lead_id) above p_after_id whose deal the mirror has no '
  'API/webhook state for: the backfill reads these by id after its scan (deleted, or outside the scan window).';
revoke all on function private.backfill_missing_lead_ids(uuid,bigint,integer) from public;
grant execute on function private.backfill_missing_lead_ids(uuid,bigint,integer) to service_role;

-- p_seen: ok | missing | disabled | settings (subscribed with other settings) | no_destination | error
create or replace function private.record_webhook_check(p_user_account_id uuid, p_seen text, p_repaired boolean)
returns void
language sql
volatile
set search_path = ''
as $$
  update amocrm.connections set
    webhook_checked_at = now(),
    webhook_disabled_seen_at = case when p_seen = 'disabled' then now() else webhook_disabled_seen_at end,
    webhook_repaired_at = case when p_repaired then now() else webhook_repaired_at end,
    webhook_repairs = webhook_repairs + case when p_repaired then 1 else 0 end,
    updated_at = now()
  where user_account_id = p_user_account_id
$$;
comment on function private.record_webhook_check(uuid, text, boolean) is
  'Record a webhook health check on the connection: checked time, disabled seen, repaired (count).';
revoke all on function private.record_webhook_check(uuid,text,boolean) from public;
grant execute on function private.record_webhook_check(uuid,text,boolean) to service_role;
