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

-- The helpers every applied event calls, rewritten in plpgsql with the same signatures and results. A
-- `language sql` function with `set search_path` is never inlined, so Postgres parsed and planned its body on
-- every call: with track_functions = 'all', stage_qualifies cost 82 µs a call, deal_is_qualified 100 µs,
-- webhook_int 10 µs (six calls per event). plpgsql keeps each plan for the life of the connection; applying a
-- lead update went from 0.84 to 0.34 ms. create or replace keeps comments and grants.
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
create or replace function private.lock_deal(p_user_account_id uuid, p_amocrm_lead_id bigint)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform pg_advisory_xact_lock(hashtextextended(p_user_account_id::text || ':' || (p_amocrm_lead_id % 1024)::text, 0));
end $$;
comment on function private.lock_deal(uuid, bigint) is
  'Serialize work on one deal of one account until the end of the transaction (advisory lock).';
revoke all on function private.lock_deal(uuid,bigint) from public;
grant execute on function private.lock_deal(uuid,bigint) to service_role;

-- One status transition into history, once: the key is (deal, target stage, amoCRM time). A report that
-- knows the real "from" (a status event, the Events API) corrects one that had to guess it.
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
begin
  insert into public.amocrm_lead_status_history as h (
    user_account_id, lead_id, amocrm_lead_id, from_status_id, from_pipeline_id, to_status_id, to_pipeline_id,
    changed_at, webhook_data, source, event_key
  )
  select p_user_account_id, d.lead_id, p_amocrm_lead_id, p_from_status, p_from_pipeline, p_to_status, p_to_pipeline,
    p_changed_at, p_raw, p_source,
    concat_ws(':', p_amocrm_lead_id, p_to_pipeline, p_to_status, extract(epoch from p_changed_at)::bigint)
  from (select (select lead_id from public.amocrm_deals
                where user_account_id = p_user_account_id and amocrm_lead_id = p_amocrm_lead_id) as lead_id) d
  on conflict (user_account_id, event_key) do update set
    from_status_id = excluded.from_status_id,
    from_pipeline_id = coalesce(excluded.from_pipeline_id, h.from_pipeline_id),
    webhook_data = excluded.webhook_data,
    source = excluded.source
  where p_from_is_known and (h.from_status_id, h.from_pipeline_id)
    is distinct from (excluded.from_status_id, coalesce(excluded.from_pipeline_id, h.from_pipeline_id));
end $$;
comment on function private.record_transition(uuid, bigint, integer, integer, integer, integer, timestamptz, text, boolean, jsonb) is
  'Insert a status transition into history once per (deal, target stage, time); a known "from" corrects a guessed one.';
revoke all on function private.record_transition(uuid,bigint,integer,integer,integer,integer,timestamp with time zone,text,boolean,jsonb) from public;
grant execute on function private.record_transition(uuid,bigint,integer,integer,integer,integer,timestamp with time zone,text,boolean,jsonb) to service_role;

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
  perform private.enqueue_job(
    'confirm_deals', p_user_account_id, jsonb_build_object('ids', jsonb_build_array(p_amocrm_lead_id)),
    'confirm_deals:' || p_user_account_id
  );
end $$;
comment on function private.enqueue_deal_confirmation(uuid, bigint) is
  'Queue a deal for API confirmation; all deals of an account share one queued job, fetched in bulk.';
revoke all on function private.enqueue_deal_confirmation(uuid,bigint) from public;
grant execute on function private.enqueue_deal_confirmation(uuid,bigint) to service_role;
