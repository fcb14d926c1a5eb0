-- Schedules and kicks. Everything the database asks of the Edge Functions goes through one helper that reads
-- the functions' base URL and the cron secret from Vault and calls net.http_post (pg_net).
-- Vault secrets this needs (create them once per project, see README "Deploy"):
--   amo_roi_functions_url  https://<project-ref>.supabase.co/functions/v1
--   amo_roi_cron_secret    the same value as the functions' AMO_ROI_CRON_SECRET
-- The pg_cron jobs that call these (the hand-written migration *_cron_schedules.sql, since a schema diff
-- cannot see cron.job rows):
--   amocrm-drain-queue       every minute   apply leftover webhook events (SQL) + kick the worker function
--   amocrm-webhook-health    every 30 min   re-subscribe a missing/disabled webhook
--   amocrm-reconcile         every 6 h      incremental reconcile + Events API gap fill
--   amocrm-sync-pipelines    every 12 h     pipelines and stages
--   amocrm-token-keepalive   daily          refresh idle OAuth tokens well inside their 3-month life
--   amocrm-prune-api-calls   daily          keep two weeks of amoCRM call traces
create or replace function private.invoke_function(p_name text, p_body jsonb default '{}'::jsonb)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_url text := (select decrypted_secret from vault.decrypted_secrets where name = 'amo_roi_functions_url');
  v_secret text := (select decrypted_secret from vault.decrypted_secrets where name = 'amo_roi_cron_secret');
begin
  if v_url is null or v_secret is null then
    raise warning 'amo-roi: Vault secrets amo_roi_functions_url / amo_roi_cron_secret are missing; % not called', p_name;
    return null;
  end if;
  return net.http_post(
    url := v_url || '/' || p_name,
    body := p_body,
    headers := jsonb_build_object('Content-Type', 'application/json', 'x-cron-secret', v_secret),
    timeout_milliseconds := 10000
  );
end $$;
comment on function private.invoke_function(text, jsonb) is
  'Call an Edge Function asynchronously (pg_net) with the cron secret from Vault. Returns the pg_net request id.';
revoke all on function private.invoke_function(text,jsonb) from public;
grant execute on function private.invoke_function(text,jsonb) to service_role;

-- New work is started right away instead of waiting for the next cron tick: one kick per statement that queued
-- a job. An enqueue merged into an already queued job inserts nothing, and the worker is already on its way.
create or replace function private.kick_worker()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if exists (select 1 from new_jobs) then
    perform private.invoke_function('amocrm-worker', jsonb_build_object('reason', 'job_enqueued'));
  end if;
  return null;
end $$;
comment on function private.kick_worker() is
  'Trigger (after insert on amocrm.jobs, per statement): call the worker function when the statement queued a job.';
revoke all on function private.kick_worker() from public;

create trigger kick_worker after insert on amocrm.jobs
  referencing new table as new_jobs
  for each statement execute function private.kick_worker();

-- The dashboard's "Обновить воронки" button: a member asks for a pipeline sync of their account.
create or replace function private.request_pipeline_sync(p_user_account_id uuid)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if not (p_user_account_id in (select private.my_user_account_ids()) or private.caller_is_service()) then
    raise exception using errcode = '42501', message = 'not a member of this user account';
  end if;
  return private.enqueue_job('sync_pipelines', p_user_account_id, '{}'::jsonb, 'sync_pipelines:' || p_user_account_id);
end $$;
comment on function private.request_pipeline_sync(uuid) is
  'Queue a pipeline sync for an account the caller belongs to; the worker runs it within seconds.';
revoke all on function private.request_pipeline_sync(uuid) from public;
grant execute on function private.request_pipeline_sync(uuid) to authenticated;
grant execute on function private.request_pipeline_sync(uuid) to service_role;

create or replace function public.request_pipeline_sync(p_user_account_id uuid)
returns bigint
language sql
volatile
set search_path = ''
as $$
  select private.request_pipeline_sync(p_user_account_id)
$$;
comment on function public.request_pipeline_sync(uuid) is
  'RPC for the dashboard: queue a pipeline sync of one of your accounts (supabase.rpc(''request_pipeline_sync'')).';
revoke all on function request_pipeline_sync(uuid) from public;
grant execute on function request_pipeline_sync(uuid) to authenticated;
grant execute on function request_pipeline_sync(uuid) to service_role;
