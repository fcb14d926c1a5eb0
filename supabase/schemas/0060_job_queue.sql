-- The job queue (amocrm.jobs, declared in 0050): enqueue with merge by dedupe key, claim, complete, fail with
-- backoff. The worker function drains it; pg_cron kicks the worker (0420).
-- enqueue_job merges a payload into the queued job with the same dedupe key. Merge and insert are two
-- statements, and a worker may claim the job between them (it is 'running' then, so the merge matches
-- nothing): it loops until one of them wins, so ids are never dropped (a dropped id is a deal never confirmed).
create or replace function private.enqueue_job(
  p_kind text,
  p_user_account_id uuid,
  p_payload jsonb default '{}'::jsonb,
  p_dedupe_key text default null,
  p_run_after timestamptz default now()
)
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_id bigint;
begin
  loop
    insert into amocrm.jobs (kind, user_account_id, payload, dedupe_key, run_after)
    values (p_kind, p_user_account_id, p_payload, p_dedupe_key, p_run_after)
    on conflict (dedupe_key) where state = 'queued' do nothing
    returning id into v_id;
    exit when v_id is not null;
    -- The same work is already queued: merge the payload's ids so nothing is lost.
    update amocrm.jobs j set
      payload = case
        when j.payload ? 'ids' and p_payload ? 'ids' then jsonb_set(j.payload, '{ids}', (
          select coalesce(jsonb_agg(distinct x), '[]'::jsonb)
          from jsonb_array_elements((j.payload -> 'ids') || (p_payload -> 'ids')) x))
        else j.payload end,
      run_after = least(j.run_after, p_run_after),
      updated_at = now()
    where j.dedupe_key = p_dedupe_key and j.state = 'queued'
    returning j.id into v_id;
    exit when v_id is not null;
    -- Claimed between the two statements: it no longer takes new work, so queue a fresh job.
  end loop;
  return v_id;
end $$;
comment on function private.enqueue_job(text, uuid, jsonb, text, timestamptz) is
  'Queue a job; with a dedupe key an identical queued job is reused and payload ids are merged.';
revoke all on function private.enqueue_job(text,uuid,jsonb,text,timestamp with time zone) from public;
grant execute on function private.enqueue_job(text,uuid,jsonb,text,timestamp with time zone) to service_role;

-- The lock is short because a live worker renews it (private.heartbeat_jobs, every few seconds, for every job
-- of its batch): a long amoCRM call never loses its job, and a dead worker's job is free again within 30 s.
create or replace function private.claim_jobs(p_kinds text[], p_limit integer, p_worker text, p_lock_seconds integer default 30)
returns setof amocrm.jobs
language sql
volatile
set search_path = ''
as $$
  -- A job whose worker stopped on its last attempt (lock expired) is dead, not retried for ever: only fail_job
  -- counted attempts, and a job that kills its worker never reaches it.
  with exhausted as (
    update amocrm.jobs d set
      state = 'dead', finished_at = now(), locked_at = null, updated_at = now(),
      last_error = left(coalesce(d.last_error || '; ', '') || 'its worker stopped during the last attempt', 2000)
    where d.kind = any (p_kinds) and d.state = 'running' and d.attempts >= d.max_attempts
      and d.locked_at < now() - make_interval(secs => p_lock_seconds)
    returning d.id
  )
  update amocrm.jobs j set
    state = 'running',
    attempts = j.attempts + 1,
    locked_at = now(),
    locked_by = p_worker,
    updated_at = now()
  where j.id in (
    select c.id from amocrm.jobs c
    where c.kind = any (p_kinds)
      and (
        (c.state in ('queued', 'failed') and c.run_after <= now())
        -- A worker that died mid-job leaves it running; after the lock expires another worker takes it.
        or (c.state = 'running' and c.locked_at < now() - make_interval(secs => p_lock_seconds)
          and c.attempts < c.max_attempts)
      )
      -- GUARD: an account amoCRM blocked (breaker open) runs nothing but its probe; the rest waits, unclaimed,
      -- so waiting costs no attempt.
      and (c.kind = 'breaker_probe' or not exists (
        select 1 from amocrm.connections cn where cn.user_account_id = c.user_account_id and cn.breaker_open))
    order by c.run_after, c.id
    limit p_limit
    for update skip locked
  )
    and j.id not in (select e.id from exhausted e)
  returning j.*
$$;
comment on function private.claim_jobs(text[], integer, text, integer) is
  'Atomically take up to p_limit runnable jobs of the given kinds for one worker (skip locked). A running job '
  'whose lock (renewed by heartbeats) is older than p_lock_seconds is taken over (or dead, if that was its last '
  'attempt); jobs of an account whose circuit breaker is open are left waiting, except its breaker_probe.';
revoke all on function private.claim_jobs(text[],integer,text,integer) from public;
grant execute on function private.claim_jobs(text[],integer,text,integer) to service_role;

-- complete_job, fail_job and defer_job take the worker that claimed the job: a worker that stalled past its lock
-- (another has taken the job over) then changes nothing. Without a worker they act on the id alone (operators).
create or replace function private.complete_job(p_job_id bigint, p_worker text default null)
returns void
language sql
volatile
set search_path = ''
as $$
  update amocrm.jobs set state = 'done', finished_at = now(), last_error = null, locked_at = null, updated_at = now()
  where id = p_job_id and (p_worker is null or (state = 'running' and locked_by = p_worker))
$$;
comment on function private.complete_job(bigint, text) is 'Mark a claimed job done (only if p_worker still holds it).';
revoke all on function private.complete_job(bigint, text) from public;
grant execute on function private.complete_job(bigint, text) to service_role;

create or replace function private.fail_job(p_job_id bigint, p_error text, p_worker text default null)
returns void
language sql
volatile
set search_path = ''
as $$
  -- Backoff 2^attempts seconds (capped at one hour) with up to 25% jitter; dead after max_attempts.
  update amocrm.jobs set
    state = case when attempts >= max_attempts then 'dead' else 'failed' end,
    last_error = left(p_error, 2000),
    run_after = now() + make_interval(secs => least(3600, power(2, attempts)) * (1 + random() * 0.25)),
    finished_at = case when attempts >= max_attempts then now() end,
    locked_at = null,
    updated_at = now()
  where id = p_job_id and (p_worker is null or (state = 'running' and locked_by = p_worker))
$$;
comment on function private.fail_job(bigint, text, text) is
  'Record a failed attempt (only if p_worker still holds the job): retried later with exponential backoff, or '
  'dead after max_attempts.';
revoke all on function private.fail_job(bigint, text, text) from public;
grant execute on function private.fail_job(bigint, text, text) to service_role;

create or replace function private.heartbeat_jobs(p_job_ids bigint[], p_worker text)
returns integer
language sql
volatile
set search_path = ''
as $$
  with renewed as (
    update amocrm.jobs set locked_at = now()
    where id = any (p_job_ids) and state = 'running' and locked_by = p_worker
    returning 1
  )
  select count(*)::int from renewed
$$;
comment on function private.heartbeat_jobs(bigint[], text) is
  'A live worker renews the locks of the jobs it holds (claimed and not finished). Returns how many it still holds.';
revoke all on function private.heartbeat_jobs(bigint[], text) from public;
grant execute on function private.heartbeat_jobs(bigint[], text) to service_role;

create or replace function private.defer_job(p_job_id bigint, p_reason text, p_worker text default null)
returns void
language sql
volatile
set search_path = ''
as $$
  -- 'failed' rather than 'queued': a queued job with the same dedupe key may exist by now (work that arrived
  -- while this one ran), and only one may be queued. The claim gave it an attempt; waiting is not one.
  update amocrm.jobs set
    state = 'failed',
    attempts = greatest(attempts - 1, 0),
    last_error = left(p_reason, 2000),
    run_after = now(),
    locked_at = null,
    updated_at = now()
  where id = p_job_id and state = 'running' and (p_worker is null or locked_by = p_worker)
$$;
comment on function private.defer_job(bigint, text, text) is
  'A claimed job that could not run through no fault of its own (the account''s circuit breaker is open): back to '
  'runnable, its attempt given back, the reason recorded. private.claim_jobs leaves it until the breaker closes.';
revoke all on function private.defer_job(bigint, text, text) from public;
grant execute on function private.defer_job(bigint, text, text) to service_role;

create or replace function private.requeue_dead_jobs(p_user_account_id uuid default null)
returns integer
language sql
volatile
set search_path = ''
as $$
  with requeued as (
    update amocrm.jobs set
      state = 'failed', attempts = 0, run_after = now(), finished_at = null, locked_at = null, updated_at = now()
    where state = 'dead' and (p_user_account_id is null or user_account_id = p_user_account_id)
    returning 1
  )
  select count(*)::int from requeued
$$;
comment on function private.requeue_dead_jobs(uuid) is
  'Operator: give every dead job (of one user account, or all) a fresh attempt budget and make it runnable now. '
  'Their last_error stays until they run. Returns how many. Called by the amocrm-requeue-dead-jobs function.';
revoke all on function private.requeue_dead_jobs(uuid) from public;
grant execute on function private.requeue_dead_jobs(uuid) to service_role;

create or replace function private.next_job_due_at(p_kinds text[] default null, p_lock_seconds integer default 30)
returns timestamptz
language sql
stable
set search_path = ''
as $$
  -- The same conditions as private.claim_jobs: a backoff ending, or a dead worker's lock expiring; never a
  -- job of a blocked account (breaker open) other than its probe.
  select min(case when c.state = 'running' then c.locked_at + make_interval(secs => p_lock_seconds) else c.run_after end)
  from amocrm.jobs c
  where c.state in ('queued', 'failed', 'running')
    and (p_kinds is null or c.kind = any (p_kinds))
    and (c.kind = 'breaker_probe' or not exists (
      select 1 from amocrm.connections cn where cn.user_account_id = c.user_account_id and cn.breaker_open))
$$;
comment on function private.next_job_due_at(text[], integer) is
  'When private.claim_jobs will next hand out a job (of these kinds; null = any), or null when none waits. The '
  'cron backstop kicks the worker when it is due; a worker waits for it when it is seconds away.';
revoke all on function private.next_job_due_at(text[], integer) from public;
grant execute on function private.next_job_due_at(text[], integer) to service_role;
