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

create or replace function private.claim_jobs(p_kinds text[], p_limit integer, p_worker text, p_lock_seconds integer default 120)
returns setof amocrm.jobs
language sql
volatile
set search_path = ''
as $$
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
        or (c.state = 'running' and c.locked_at < now() - make_interval(secs => p_lock_seconds))
      )
    order by c.run_after, c.id
    limit p_limit
    for update skip locked
  )
  returning j.*
$$;
comment on function private.claim_jobs(text[], integer, text, integer) is
  'Atomically take up to p_limit runnable jobs of the given kinds for one worker (skip locked).';
revoke all on function private.claim_jobs(text[],integer,text,integer) from public;
grant execute on function private.claim_jobs(text[],integer,text,integer) to service_role;

create or replace function private.complete_job(p_job_id bigint)
returns void
language sql
volatile
set search_path = ''
as $$
  update amocrm.jobs set state = 'done', finished_at = now(), last_error = null, locked_at = null, updated_at = now()
  where id = p_job_id
$$;
comment on function private.complete_job(bigint) is 'Mark a claimed job done.';
revoke all on function private.complete_job(bigint) from public;
grant execute on function private.complete_job(bigint) to service_role;

create or replace function private.fail_job(p_job_id bigint, p_error text)
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
  where id = p_job_id
$$;
comment on function private.fail_job(bigint, text) is
  'Record a failed attempt: retried later with exponential backoff, or dead after max_attempts.';
revoke all on function private.fail_job(bigint,text) from public;
grant execute on function private.fail_job(bigint,text) to service_role;
