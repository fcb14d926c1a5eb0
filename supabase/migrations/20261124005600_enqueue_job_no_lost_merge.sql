-- private.enqueue_job merged a payload into the queued job with the same dedupe key in two statements: an
-- insert that found the queued job, then an update of it. A worker that claimed the job in between (it is
-- 'running' then, so the update matched nothing) made the merge a no-op and the payload's ids were lost: a
-- deal's confirmation was never read, and a sale stayed paid after the deal was lost or deleted. Now it
-- loops until one of the two statements wins: either the ids join a queued job, or a new queued job is made.

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
