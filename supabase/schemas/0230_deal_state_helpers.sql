-- Applying amoCRM lead changes to the deal mirror, SQL-first. One entry point per source:
--   private.apply_lead_event      a webhook event (add/update/status/responsible/delete/restore)
--   private.apply_contact_event   a contact add/update: refresh the phone and link deals by it
--   private.apply_webhook_events  every pending event of one inbox row, each isolated (bad → quarantined)
-- Rules that make any delivery order converge to the same state:
--   * state (pipeline, status, price, …) changes only when the event is newer than what is stored: amoCRM's
--     updated_at, ties broken by a hash of the event's state so every permutation picks the same winner;
--   * every status transition is written to history once (keyed by deal, target stage and time), whatever
--     path reported it (add/status webhooks, the API, the Events API); the "from" side comes from the event
--     (old_status_id) and the stage catalog. Update events carry no "from" and never write history, so
--     history does not depend on delivery order; a missed status event is healed by reconciliation;
--   * delete sets is_deleted, only restore clears it, so late updates never resurrect a deleted deal;
--   * money events (won, lost, reopened, price change on a won deal) are never trusted: they enqueue a
--     confirm_deals job that re-reads the deals from the amoCRM API in bulk.

-- The helpers every applied event calls. They are plpgsql, not `language sql`: a SQL function with
-- `set search_path` is never inlined, so its body was planned on every call (docs/decisions/apply-helpers.md).
create or replace function private.webhook_int(p_value text)
returns bigint
language plpgsql
immutable
set search_path = ''
as $$
begin
  return case when p_value ~ '^-?\d{1,18}$' then p_value::bigint end;
end $$;
comment on function private.webhook_int(text) is 'A webhook string value as bigint, or null when it is not an integer.';
revoke all on function private.webhook_int(text) from public;
grant execute on function private.webhook_int(text) to service_role;

create or replace function private.webhook_numeric(p_value text)
returns numeric
language plpgsql
immutable
set search_path = ''
as $$
begin
  return case when p_value ~ '^-?\d+(\.\d+)?$' then p_value::numeric end;
end $$;
comment on function private.webhook_numeric(text) is 'A webhook string value as numeric, or null when it is not a number.';
revoke all on function private.webhook_numeric(text) from public;
grant execute on function private.webhook_numeric(text) to service_role;

-- A lead's amount as amoCRM gives it (API or webhook): price_with_minor_units (since April 2026, e.g. 100.50) where present,
-- else the legacy integer price (which truncates: 100.5 → 100, 0.1 → 0).
create or replace function private.lead_amount(p_lead jsonb)
returns numeric
language plpgsql
immutable
set search_path = ''
as $$
begin
  return coalesce(private.webhook_numeric(p_lead ->> 'price_with_minor_units'), private.webhook_numeric(p_lead ->> 'price'));
end $$;
comment on function private.lead_amount(jsonb) is
  'A lead''s exact amount: price_with_minor_units where amoCRM gives it, else the legacy integer price.';
revoke all on function private.lead_amount(jsonb) from public;
grant execute on function private.lead_amount(jsonb) to service_role;

-- The pipeline a status belongs to, from the synced catalog. Status ids are unique per account except the
-- system statuses 142/143, which exist in every pipeline (→ null: ambiguous).
create or replace function private.pipeline_of_status(p_user_account_id uuid, p_status_id integer)
returns integer
language plpgsql
stable
set search_path = ''
as $$
begin
  return (
    select case when count(distinct s.pipeline_id) = 1 then min(s.pipeline_id) end
    from public.amocrm_pipeline_stages s
    where s.user_account_id = p_user_account_id and s.status_id = p_status_id and p_status_id not in (142, 143)
  );
end $$;
comment on function private.pipeline_of_status(uuid, integer) is
  'Pipeline of a non-system status from the stage catalog, or null when unknown or ambiguous (142/143).';
revoke all on function private.pipeline_of_status(uuid,integer) from public;
grant execute on function private.pipeline_of_status(uuid,integer) to service_role;

-- Everything that writes one deal or links it takes this lock first, before any row lock: the webhook path
-- and the product's lead insert (trigger) then see each other's committed rows instead of racing past, and
-- always lock in the same order (this, then the deal row), so they cannot deadlock. Deals share 1024 lock
-- slots per account, so a bulk insert of many leads holds at most 1024 locks (the shared lock table is small).
-- Inside an apply entry point the deals were taken up front in key order (0232): a deal needed beyond those
-- is only tried, since waiting for it while holding other locks could close a cycle.
create or replace function private.lock_deal(p_user_account_id uuid, p_amocrm_lead_id bigint)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_key bigint := private.deal_lock_key(p_user_account_id, p_amocrm_lead_id);
begin
  if private.apply_depth() = 0 or current_setting('amo_roi.deal_locks', true) is distinct from txid_current()::text then
    perform pg_advisory_xact_lock(v_key);
  elsif not pg_try_advisory_xact_lock(v_key) then
    raise exception using errcode = '55P03', message = format(
      'deal %s of account %s is being applied by another transaction (not locked up front; retried later)',
      p_amocrm_lead_id, p_user_account_id);
  end if;
end $$;
comment on function private.lock_deal(uuid, bigint) is
  'Serialize work on one deal of one account until the end of the transaction (advisory lock); inside an apply '
  'entry point that took its deals up front (private.lock_deals) it only tries, raising lock_not_available.';
revoke all on function private.lock_deal(uuid,bigint) from public;
grant execute on function private.lock_deal(uuid,bigint) to service_role;

-- The identity of one transition in history: (deal, from status, target stage, amoCRM second). Two different
-- moves in one second (A→B then B→C, or A→B→A) are two rows; the same move reported again (a redelivery, the
-- Events API, a reconcile) is the same row. The "from" pipeline is left out: account webhooks do not carry
-- it, so it may be a guess that a later report corrects.
create or replace function private.transition_key(
  p_amocrm_lead_id bigint, p_from_status integer, p_to_pipeline integer, p_to_status integer, p_changed_at timestamptz
)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  return concat_ws(':', p_amocrm_lead_id, p_to_pipeline, p_to_status, extract(epoch from p_changed_at)::bigint,
    coalesce(p_from_status::text, ''));
end $$;
comment on function private.transition_key(bigint, integer, integer, integer, timestamptz) is
  'History key of a transition: deal, target pipeline and status, amoCRM second, from status.';
revoke all on function private.transition_key(bigint,integer,integer,integer,timestamp with time zone) from public;
grant execute on function private.transition_key(bigint,integer,integer,integer,timestamp with time zone) to service_role;

-- One status transition into history, once (private.transition_key). A report that had to guess its "from"
-- (an API snapshot: the stage we last knew) never adds a row next to a real report of entering the same stage
-- at the same second, and a real report replaces such a guess; a known "from" pipeline corrects a guessed one.
create or replace function private.record_transition(
  p_user_account_id uuid,
  p_amocrm_lead_id bigint,
  p_from_status integer,
  p_from_pipeline integer,
  p_to_status integer,
  p_to_pipeline integer,
  p_changed_at timestamptz,
  p_source text,
  p_from_is_known boolean,
  p_raw jsonb
)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_key text := private.transition_key(p_amocrm_lead_id, p_from_status, p_to_pipeline, p_to_status, p_changed_at);
begin
  -- GUARD: a guess is only for an arrival nobody reported.
  if not p_from_is_known and exists (
    select 1 from public.amocrm_lead_status_history h
    where h.user_account_id = p_user_account_id and h.amocrm_lead_id = p_amocrm_lead_id
      and h.changed_at = p_changed_at and h.to_status_id = p_to_status and h.to_pipeline_id = p_to_pipeline
      and h.event_key <> v_key
  ) then
    return;
  end if;
  -- STEP: a real report replaces guesses of the same arrival.
  if p_from_is_known and p_source <> 'api' then
    delete from public.amocrm_lead_status_history h
    where h.user_account_id = p_user_account_id and h.amocrm_lead_id = p_amocrm_lead_id
      and h.changed_at = p_changed_at and h.to_status_id = p_to_status and h.to_pipeline_id = p_to_pipeline
      and h.source = 'api' and h.event_key <> v_key;
  end if;
  insert into public.amocrm_lead_status_history as h (
    user_account_id, lead_id, amocrm_lead_id, from_status_id, from_pipeline_id, to_status_id, to_pipeline_id,
    changed_at, webhook_data, source, event_key
  )
  select p_user_account_id, d.lead_id, p_amocrm_lead_id, p_from_status, p_from_pipeline, p_to_status, p_to_pipeline,
    p_changed_at, p_raw, p_source, v_key
  from (select (select lead_id from public.amocrm_deals
                where user_account_id = p_user_account_id and amocrm_lead_id = p_amocrm_lead_id) as lead_id) d
  on conflict (user_account_id, event_key) do update set
    from_pipeline_id = coalesce(excluded.from_pipeline_id, h.from_pipeline_id),
    webhook_data = excluded.webhook_data,
    source = excluded.source
  -- The Events API knows the old pipeline; a webhook only guesses it, so it never overrides the Events API.
  -- A real report of an arrival that was guessed with the same "from" takes the guess's row over.
  where p_from_is_known and (h.source <> 'events_api' or excluded.source = 'events_api')
    and (h.from_pipeline_id is distinct from coalesce(excluded.from_pipeline_id, h.from_pipeline_id)
      or (h.source = 'api' and excluded.source <> 'api'));

  -- STEP: 142/143 exist in every pipeline, so a webhook's move out of them had to guess its old pipeline;
  -- now that an arrival into that status is known, later moves out of it take the pipeline of the arrival
  -- they left from (the newest one up to their own time), whichever arrived first.
  if p_to_status in (142, 143) then
    update public.amocrm_lead_status_history h set from_pipeline_id = (
      select e.to_pipeline_id from public.amocrm_lead_status_history e
      where e.user_account_id = p_user_account_id and e.amocrm_lead_id = p_amocrm_lead_id
        and e.to_status_id = h.from_status_id and e.changed_at <= h.changed_at
      order by e.changed_at desc, e.to_pipeline_id limit 1)
    where h.user_account_id = p_user_account_id and h.amocrm_lead_id = p_amocrm_lead_id
      and h.from_status_id = p_to_status and h.changed_at >= p_changed_at and h.source = 'webhook'
      and h.webhook_data ->> 'old_pipeline_id' is null
      and h.from_pipeline_id is distinct from (
        select e.to_pipeline_id from public.amocrm_lead_status_history e
        where e.user_account_id = p_user_account_id and e.amocrm_lead_id = p_amocrm_lead_id
          and e.to_status_id = h.from_status_id and e.changed_at <= h.changed_at
        order by e.changed_at desc, e.to_pipeline_id limit 1);
  end if;
end $$;
comment on function private.record_transition(uuid, bigint, integer, integer, integer, integer, timestamptz, text, boolean, jsonb) is
  'Insert a status transition into history once (private.transition_key); a guessed "from" never duplicates a '
  'reported arrival, a reported one replaces the guess, a known "from" pipeline corrects a guessed one.';
revoke all on function private.record_transition(uuid,bigint,integer,integer,integer,integer,timestamp with time zone,text,boolean,jsonb) from public;
grant execute on function private.record_transition(uuid,bigint,integer,integer,integer,integer,timestamp with time zone,text,boolean,jsonb) to service_role;

-- Where a deal ended within one amoCRM second. Webhooks carry seconds, so several moves in one second (a
-- robot's chain A→B→C→B) arrive unordered; their history rows form a path, and the path ends at the stage
-- entered once more than it was left. A closed path (A→B→A) ends where it started: where the previous second
-- ended. This depends only on the set of transitions known, never on the order they arrived in.
create or replace function private.same_second_chain_end(
  p_user_account_id uuid, p_amocrm_lead_id bigint, p_at timestamptz,
  out pipeline_id integer, out status_id integer
)
language plpgsql
stable
set search_path = ''
as $$
declare
  v_at timestamptz;
  v_prior_status integer;
begin
  -- Edges of the second: +1 into a stage, -1 out of it. The end is the most positive stage (lowest id on ties).
  select b.p, b.s into pipeline_id, status_id
  from (
    select x.s, sum(x.d) as d, max(x.p) as p
    from public.amocrm_lead_status_history h
    cross join lateral (values (h.to_status_id, 1, h.to_pipeline_id), (h.from_status_id, -1, null::integer))
      as x (s, d, p)
    where h.user_account_id = p_user_account_id and h.amocrm_lead_id = p_amocrm_lead_id and h.changed_at = p_at
      and x.s is not null
    group by x.s
  ) b
  where b.d > 0
  order by b.d desc, b.s
  limit 1;
  if status_id is not null or not exists (
    select 1 from public.amocrm_lead_status_history h
    where h.user_account_id = p_user_account_id and h.amocrm_lead_id = p_amocrm_lead_id and h.changed_at = p_at
  ) then
    return;
  end if;
  -- STEP: a closed path: it started (and ended) where the previous second ended.
  select max(h.changed_at) into v_at from public.amocrm_lead_status_history h
  where h.user_account_id = p_user_account_id and h.amocrm_lead_id = p_amocrm_lead_id and h.changed_at < p_at;
  if v_at is not null then
    select e.status_id into v_prior_status from private.same_second_chain_end(p_user_account_id, p_amocrm_lead_id, v_at) e;
  end if;
  select h.to_pipeline_id, h.to_status_id into pipeline_id, status_id
  from public.amocrm_lead_status_history h
  where h.user_account_id = p_user_account_id and h.amocrm_lead_id = p_amocrm_lead_id and h.changed_at = p_at
  order by h.to_status_id is distinct from v_prior_status, h.to_status_id, h.to_pipeline_id
  limit 1;
end $$;
comment on function private.same_second_chain_end(uuid, bigint, timestamptz) is
  'The (pipeline, status) a deal ended at within one amoCRM second, from that second''s history rows (null '
  'when there are none): the end of the path they form, or where the previous second ended for a closed path.';
revoke all on function private.same_second_chain_end(uuid,bigint,timestamp with time zone) from public;
grant execute on function private.same_second_chain_end(uuid,bigint,timestamp with time zone) to service_role;

-- The order of deal states: amoCRM's updated_at, then the tiebreak compared bytewise (collation-proof).
-- API snapshots use the tiebreak '~', above every md5 hex digest, so at equal times the API wins.
create or replace function private.is_newer_state(
  p_at timestamptz, p_tiebreak text, p_stored_at timestamptz, p_stored_tiebreak text
)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  return p_stored_at is null
    or p_at > p_stored_at
    or (p_at = p_stored_at and p_tiebreak collate "C" > p_stored_tiebreak collate "C");
end $$;
comment on function private.is_newer_state(timestamptz, text, timestamptz, text) is
  'Whether a deal state (amoCRM time, tiebreak) is newer than the stored one.';
revoke all on function private.is_newer_state(timestamp with time zone,text,timestamp with time zone,text) from public;
grant execute on function private.is_newer_state(timestamp with time zone,text,timestamp with time zone,text) to service_role;

create or replace function private.enqueue_deal_confirmation(p_user_account_id uuid, p_amocrm_lead_id bigint)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  -- While applying, the shared job row is written at the end, with the other shared rows (0232).
  if private.apply_depth() > 0 then
    perform private.buffer_job('confirm_deals', p_user_account_id, array[p_amocrm_lead_id],
      'confirm_deals:' || p_user_account_id, now());
    return;
  end if;
  perform private.enqueue_job(
    'confirm_deals', p_user_account_id, jsonb_build_object('ids', jsonb_build_array(p_amocrm_lead_id)),
    'confirm_deals:' || p_user_account_id
  );
end $$;
comment on function private.enqueue_deal_confirmation(uuid, bigint) is
  'Queue a deal for API confirmation; all deals of an account share one queued job, fetched in bulk. Inside an '
  'apply entry point the job is written when the apply ends (private.flush_apply_writes).';
revoke all on function private.enqueue_deal_confirmation(uuid,bigint) from public;
grant execute on function private.enqueue_deal_confirmation(uuid,bigint) to service_role;
