-- Bookkeeping for the schedules: one row per run of a sync, reconcile, backfill or webhook check (what it
-- did, how far it got, what it healed), and the webhook's health on the connection.
create table amocrm.sync_runs (
  id bigint generated always as identity primary key,
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  kind text not null check (kind in ('pipelines', 'reconcile', 'backfill', 'events', 'webhook_health', 'keepalive')),
  state text not null default 'running' check (state in ('running', 'done', 'failed')),
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  -- Where a resumable run continues (backfill: next page; reconcile: watermark it started from).
  cursor jsonb not null default '{}'::jsonb,
  pages integer not null default 0,
  leads integer not null default 0,
  -- Deals whose state or history this run changed: what webhooks had missed.
  healed integer not null default 0,
  errors integer not null default 0,
  last_error text,
  details jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);

create index sync_runs_account_kind_idx on amocrm.sync_runs (user_account_id, kind, started_at desc);

alter table amocrm.sync_runs enable row level security;

revoke all on amocrm.sync_runs from public, anon, authenticated;

grant all on amocrm.sync_runs to service_role;

create or replace function private.start_sync_run(p_user_account_id uuid, p_kind text, p_cursor jsonb default '{}'::jsonb)
returns bigint
language sql
volatile
set search_path = ''
as $$
  insert into amocrm.sync_runs (user_account_id, kind, cursor) values (p_user_account_id, p_kind, p_cursor)
  returning id
$$;
comment on function private.start_sync_run(uuid, text, jsonb) is 'Open a run record for a schedule or backfill.';
revoke all on function private.start_sync_run(uuid,text,jsonb) from public;
grant execute on function private.start_sync_run(uuid,text,jsonb) to service_role;

create or replace function private.finish_sync_run(p_run_id bigint, p_error text default null, p_details jsonb default '{}'::jsonb)
returns void
language sql
volatile
set search_path = ''
as $$
  update amocrm.sync_runs set
    state = case when p_error is null then 'done' else 'failed' end,
    finished_at = now(),
    last_error = p_error,
    errors = errors + case when p_error is null then 0 else 1 end,
    details = details || p_details
  where id = p_run_id
$$;
comment on function private.finish_sync_run(bigint, text, jsonb) is 'Close a run record as done, or failed with its error.';
revoke all on function private.finish_sync_run(bigint,text,jsonb) from public;
grant execute on function private.finish_sync_run(bigint,text,jsonb) to service_role;

-- What an operator or the dashboard needs to know about each connection, without its secrets.
-- Security definer because tokens live beside these fields; it answers only for the caller's accounts
-- (service_role: all of them).
create or replace function private.connection_statuses()
returns table (
  user_account_id uuid,
  subdomain text,
  state text,
  state_reason text,
  token_kind text,
  access_token_expires_at timestamptz,
  token_refreshed_at timestamptz,
  breaker_open boolean,
  breaker_reason text,
  breaker_cooldown_until timestamptz,
  last_webhook_at timestamptz,
  webhook_checked_at timestamptz,
  webhook_disabled_seen_at timestamptz,
  webhook_repaired_at timestamptz,
  last_reconcile_at timestamptz,
  last_reconcile_healed integer,
  last_pipeline_sync_at timestamptz,
  pending_jobs bigint,
  dead_jobs bigint,
  dead_job_errors text[],
  quarantined_events bigint
)
language sql
stable
security definer
set search_path = ''
as $$
  select
    c.user_account_id, c.subdomain, c.state, c.state_reason, c.token_kind, c.access_token_expires_at,
    c.token_refreshed_at, c.breaker_open, c.breaker_reason, c.breaker_cooldown_until,
    (select max(i.received_at) from amocrm.webhook_inbox i where i.user_account_id = c.user_account_id),
    c.webhook_checked_at, c.webhook_disabled_seen_at, c.webhook_repaired_at,
    r.finished_at, r.healed,
    (select max(p.finished_at) from amocrm.sync_runs p
     where p.user_account_id = c.user_account_id and p.kind = 'pipelines' and p.state = 'done'),
    (select count(*) from amocrm.jobs j where j.user_account_id = c.user_account_id and j.state in ('queued', 'running', 'failed')),
    (select count(*) from amocrm.jobs j where j.user_account_id = c.user_account_id and j.state = 'dead'),
    -- Why they died, newest first (an operator re-queues them with amocrm-requeue-dead-jobs).
    (select array_agg(e.last_error order by e.at desc) from (
       select j.last_error, max(j.updated_at) as at from amocrm.jobs j
       where j.user_account_id = c.user_account_id and j.state = 'dead' group by j.last_error
       order by max(j.updated_at) desc limit 5) e),
    (select count(*) from amocrm.webhook_events e where e.user_account_id = c.user_account_id and e.state = 'quarantined')
  from amocrm.connections c
  left join lateral (
    select s.finished_at, s.healed from amocrm.sync_runs s
    where s.user_account_id = c.user_account_id and s.kind = 'reconcile' and s.state = 'done'
    order by s.finished_at desc limit 1
  ) r on true
  -- GUARD: the service sees every connection; anyone else only those of accounts they belong to (auth.uid()).
  where (select private.caller_is_service())
     or c.user_account_id in (select private.my_user_account_ids())
$$;
comment on function private.connection_statuses() is
  'Per-connection health without secrets, for the caller''s accounts only (the service session: all; see '
  'private.caller_is_service).';
revoke all on function private.connection_statuses() from public;
grant execute on function private.connection_statuses() to authenticated;
grant execute on function private.connection_statuses() to service_role;

create or replace view public.amocrm_connection_status with (security_invoker = true) as
  select * from private.connection_statuses();
comment on view public.amocrm_connection_status is
  'One row per amoCRM connection the caller may see: token, breaker, webhook and reconcile health.';

revoke all on public.amocrm_connection_status from anon, authenticated;

grant select on public.amocrm_connection_status to authenticated, service_role;
