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

-- Text from a webhook (every value is a string there) to a number; empty or junk → null.
create or replace function private.webhook_int(p_value text)
returns bigint
language sql
immutable
set search_path = ''
as $$
  select case when p_value ~ '^-?\d{1,18}$' then p_value::bigint end
$$;
comment on function private.webhook_int(text) is 'A webhook string value as bigint, or null when it is not an integer.';

create or replace function private.webhook_numeric(p_value text)
returns numeric
language sql
immutable
set search_path = ''
as $$
  select case when p_value ~ '^-?\d+(\.\d+)?$' then p_value::numeric end
$$;
comment on function private.webhook_numeric(text) is 'A webhook string value as numeric, or null when it is not a number.';

-- The pipeline a status belongs to, from the synced catalog. Status ids are unique per account except the
-- system statuses 142/143, which exist in every pipeline (→ null: ambiguous).
create or replace function private.pipeline_of_status(p_user_account_id uuid, p_status_id integer)
returns integer
language sql
stable
set search_path = ''
as $$
  select case when count(distinct s.pipeline_id) = 1 then min(s.pipeline_id) end
  from public.amocrm_pipeline_stages s
  where s.user_account_id = p_user_account_id and s.status_id = p_status_id and p_status_id not in (142, 143)
$$;
comment on function private.pipeline_of_status(uuid, integer) is
  'Pipeline of a non-system status from the stage catalog, or null when unknown or ambiguous (142/143).';

-- Everything that writes one deal or links it takes this lock first, before any row lock: the webhook path
-- and the product's lead insert (trigger) then see each other's committed rows instead of racing past, and
-- always lock in the same order (this, then the deal row), so they cannot deadlock. Deals share 1024 lock
-- slots per account, so a bulk insert of many leads holds at most 1024 locks (the shared lock table is small).
create or replace function private.lock_deal(p_user_account_id uuid, p_amocrm_lead_id bigint)
returns void
language sql
volatile
set search_path = ''
as $$
  select pg_advisory_xact_lock(hashtextextended(p_user_account_id::text || ':' || (p_amocrm_lead_id % 1024)::text, 0))
$$;
comment on function private.lock_deal(uuid, bigint) is
  'Serialize work on one deal of one account until the end of the transaction (advisory lock).';

-- Link an unlinked deal to a product lead: by the amoCRM id the product stored, else by the contact's phone
-- (the newest product lead created before the deal, else the newest one).
create or replace function private.link_deal_to_lead(p_user_account_id uuid, p_amocrm_lead_id bigint)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_deal public.amocrm_deals;
  v_lead_id bigint;
  v_how text;
begin
  perform private.lock_deal(p_user_account_id, p_amocrm_lead_id);
  select * into v_deal from public.amocrm_deals
  where user_account_id = p_user_account_id and amocrm_lead_id = p_amocrm_lead_id;
  if v_deal is null or v_deal.attribution = 'amocrm_lead_id' then
    return;
  end if;

  select l.id into v_lead_id from public.leads l
  where l.user_account_id = p_user_account_id and l.amocrm_lead_id = p_amocrm_lead_id
  order by l.id limit 1;
  if v_lead_id is not null then
    v_how := 'amocrm_lead_id';
  elsif v_deal.lead_id is null and v_deal.contact_phone_e164 is not null then
    select l.id into v_lead_id from public.leads l
    where l.user_account_id = p_user_account_id and l.phone_e164 = v_deal.contact_phone_e164
    order by (l.created_at <= coalesce(v_deal.amocrm_created_at, now())) desc, l.created_at desc, l.id desc
    limit 1;
    v_how := case when v_lead_id is not null then 'phone' end;
  end if;

  if v_lead_id is not null and v_lead_id is distinct from v_deal.lead_id then
    update public.amocrm_deals set lead_id = v_lead_id, attribution = v_how
    where user_account_id = p_user_account_id and amocrm_lead_id = p_amocrm_lead_id;
    update public.amocrm_lead_status_history set lead_id = v_lead_id
    where user_account_id = p_user_account_id and amocrm_lead_id = p_amocrm_lead_id and lead_id is distinct from v_lead_id;
    update public.sales set lead_id = v_lead_id
    where user_account_id = p_user_account_id and amocrm_deal_id = p_amocrm_lead_id and lead_id is distinct from v_lead_id;
  end if;
end $$;
comment on function private.link_deal_to_lead(uuid, bigint) is
  'Attribute a deal to a product lead by leads.amocrm_lead_id, else by the main contact''s normalized phone.';

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
language sql
volatile
set search_path = ''
as $$
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
    is distinct from (excluded.from_status_id, coalesce(excluded.from_pipeline_id, h.from_pipeline_id))
$$;
comment on function private.record_transition(uuid, bigint, integer, integer, integer, integer, timestamptz, text, boolean, jsonb) is
  'Insert a status transition into history once per (deal, target stage, time); a known "from" corrects a guessed one.';

-- The order of deal states: amoCRM's updated_at, then the tiebreak compared bytewise (collation-proof).
-- API snapshots use the tiebreak '~', above every md5 hex digest, so at equal times the API wins.
create or replace function private.is_newer_state(
  p_at timestamptz, p_tiebreak text, p_stored_at timestamptz, p_stored_tiebreak text
)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select p_stored_at is null
    or p_at > p_stored_at
    or (p_at = p_stored_at and p_tiebreak collate "C" > p_stored_tiebreak collate "C")
$$;
comment on function private.is_newer_state(timestamptz, text, timestamptz, text) is
  'Whether a deal state (amoCRM time, tiebreak) is newer than the stored one.';

create or replace function private.enqueue_deal_confirmation(p_user_account_id uuid, p_amocrm_lead_id bigint)
returns void
language sql
volatile
set search_path = ''
as $$
  select private.enqueue_job(
    'confirm_deals', p_user_account_id, jsonb_build_object('ids', jsonb_build_array(p_amocrm_lead_id)),
    'confirm_deals:' || p_user_account_id
  )
$$;
comment on function private.enqueue_deal_confirmation(uuid, bigint) is
  'Queue a deal for API confirmation; all deals of an account share one queued job, fetched in bulk.';

create or replace function private.apply_lead_event(
  p_user_account_id uuid,
  p_action text,
  p_amocrm_id bigint,
  p_amocrm_ts bigint,
  p_payload jsonb,
  p_received_at timestamptz default now()
)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_deal public.amocrm_deals;
  v_status integer := private.webhook_int(p_payload ->> 'status_id');
  v_pipeline integer := private.webhook_int(p_payload ->> 'pipeline_id');
  v_old_status integer := private.webhook_int(p_payload ->> 'old_status_id');
  v_old_pipeline integer := private.webhook_int(p_payload ->> 'old_pipeline_id');
  v_price numeric := private.webhook_numeric(p_payload ->> 'price');
  v_created bigint := coalesce(private.webhook_int(p_payload ->> 'created_at'), private.webhook_int(p_payload ->> 'date_create'));
  v_event_at timestamptz := case when p_amocrm_ts > 0 then to_timestamp(p_amocrm_ts) end;
  v_tiebreak text := md5(concat_ws('|', p_action, v_status, v_pipeline, v_price, p_payload ->> 'name'));
  v_is_newer boolean;
  v_money boolean := false;
begin
  if p_action not in ('add', 'update', 'status', 'responsible', 'delete', 'restore') then
    raise exception using errcode = '22023', message = format('unsupported lead action %L', p_action);
  end if;

  -- Concurrent events for one deal apply one after another.
  perform private.lock_deal(p_user_account_id, p_amocrm_id);
  insert into public.amocrm_deals (user_account_id, amocrm_lead_id)
  values (p_user_account_id, p_amocrm_id) on conflict do nothing;
  select * into v_deal from public.amocrm_deals
  where user_account_id = p_user_account_id and amocrm_lead_id = p_amocrm_id for update;

  if p_action = 'delete' then
    update public.amocrm_deals set is_deleted = true, deleted_at = coalesce(v_event_at, p_received_at)
    where user_account_id = p_user_account_id and amocrm_lead_id = p_amocrm_id;
    -- A deleted won deal no longer counts: let the confirmation step settle its sale.
    if exists (select 1 from public.sales where user_account_id = p_user_account_id and amocrm_deal_id = p_amocrm_id) then
      perform private.enqueue_deal_confirmation(p_user_account_id, p_amocrm_id);
    end if;
    return 'deleted';
  end if;

  if p_action = 'restore' then
    update public.amocrm_deals set is_deleted = false, deleted_at = null
    where user_account_id = p_user_account_id and amocrm_lead_id = p_amocrm_id;
    perform private.enqueue_deal_confirmation(p_user_account_id, p_amocrm_id);
  end if;

  -- No amoCRM timestamp (Digital Pipeline webhooks): the payload can't be ordered, so ask the API instead.
  if v_event_at is null or v_status is null then
    perform private.enqueue_deal_confirmation(p_user_account_id, p_amocrm_id);
    return 'refetch';
  end if;

  -- History first, so the deal's qualification (recomputed by its trigger below) sees it.
  if p_action = 'add' then
    perform private.record_transition(p_user_account_id, p_amocrm_id, null, null, v_status, v_pipeline,
      coalesce(to_timestamp(v_created), v_event_at), 'webhook', true, p_payload);
  elsif p_action = 'status' then
    perform private.record_transition(p_user_account_id, p_amocrm_id, v_old_status,
      coalesce(v_old_pipeline, private.pipeline_of_status(p_user_account_id, v_old_status),
        case when v_deal.status_id = v_old_status then v_deal.pipeline_id end, v_pipeline),
      v_status, v_pipeline, v_event_at, 'webhook', true, p_payload);
  end if;

  v_is_newer := private.is_newer_state(v_event_at, v_tiebreak, v_deal.amocrm_updated_at, v_deal.state_tiebreak);

  if v_is_newer then
    v_money := v_status in (142, 143) and v_deal.status_id is distinct from v_status
      or v_deal.status_id = 142 and v_status <> 142
      or v_status = 142 and v_deal.price is distinct from v_price;

    update public.amocrm_deals set
      name = coalesce(p_payload ->> 'name', name),
      pipeline_id = v_pipeline,
      status_id = v_status,
      price = coalesce(v_price, price),
      responsible_user_id = coalesce(private.webhook_int(p_payload ->> 'responsible_user_id'), responsible_user_id),
      amocrm_created_at = coalesce(amocrm_created_at, to_timestamp(v_created)),
      amocrm_updated_at = v_event_at,
      state_tiebreak = v_tiebreak
    where user_account_id = p_user_account_id and amocrm_lead_id = p_amocrm_id;
  else
    -- Stale for state, but its history row (if any) may change qualification.
    update public.amocrm_deals set is_qualified = is_qualified
    where user_account_id = p_user_account_id and amocrm_lead_id = p_amocrm_id;
    -- A stale won event still deserves a look: the API says what is true now.
    v_money := v_status in (142, 143);
  end if;

  if v_deal.lead_id is null then
    perform private.link_deal_to_lead(p_user_account_id, p_amocrm_id);
  end if;
  if v_money then
    perform private.enqueue_deal_confirmation(p_user_account_id, p_amocrm_id);
  end if;
  return case when v_is_newer then 'applied' else 'stale' end;
end $$;
comment on function private.apply_lead_event(uuid, text, bigint, bigint, jsonb, timestamptz) is
  'Apply one amoCRM lead webhook event to the deal mirror: newer-wins state, history once per transition, '
  'delete/restore, attribution, and a confirmation job for money events. Returns what it did.';

create or replace function private.apply_contact_event(
  p_user_account_id uuid,
  p_amocrm_id bigint,
  p_payload jsonb
)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_phone text;
  v_lead_id bigint;
begin
  -- The first PHONE value that normalizes; amoCRM lets managers type anything there.
  select private.normalize_phone(v ->> 'value') into v_phone
  from jsonb_array_elements(coalesce(p_payload -> 'custom_fields', '[]'::jsonb)) f,
       jsonb_array_elements(case jsonb_typeof(f -> 'values') when 'array' then f -> 'values' else '[]'::jsonb end) v
  where f ->> 'code' = 'PHONE' and private.normalize_phone(v ->> 'value') is not null
  limit 1;
  if v_phone is null then
    return 'no_phone';
  end if;

  for v_lead_id in
    select private.webhook_int(k) from jsonb_object_keys(coalesce(p_payload -> 'linked_leads_id', '{}'::jsonb)) k
    union
    select d.amocrm_lead_id from public.amocrm_deals d
    where d.user_account_id = p_user_account_id and d.main_contact_id = p_amocrm_id
  loop
    perform private.lock_deal(p_user_account_id, v_lead_id);
    insert into public.amocrm_deals (user_account_id, amocrm_lead_id, main_contact_id, contact_phone_e164)
    values (p_user_account_id, v_lead_id, p_amocrm_id, v_phone)
    on conflict (user_account_id, amocrm_lead_id) do update set
      main_contact_id = coalesce(public.amocrm_deals.main_contact_id, excluded.main_contact_id),
      contact_phone_e164 = excluded.contact_phone_e164
    where public.amocrm_deals.main_contact_id is null or public.amocrm_deals.main_contact_id = excluded.main_contact_id;
    perform private.link_deal_to_lead(p_user_account_id, v_lead_id);
  end loop;
  return 'applied';
end $$;
comment on function private.apply_contact_event(uuid, bigint, jsonb) is
  'Apply a contact add/update webhook: store the normalized phone on its deals and attribute them by phone.';

-- Applies every pending event of one inbox row. Each event runs in its own
-- subtransaction: a bad one is quarantined with its reason and the rest still apply.
create or replace function private.apply_webhook_events(p_inbox_id bigint)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_event amocrm.webhook_events;
  v_received timestamptz;
  v_applied integer := 0;
  v_outcome text;
  v_try integer;
begin
  select received_at into v_received from amocrm.webhook_inbox where id = p_inbox_id and state = 'received';
  if v_received is null then
    return 0; -- already processed (or quarantined): nothing to do
  end if;
  perform private.expand_webhook_events(p_inbox_id);
  for v_event in
    select * from amocrm.webhook_events
    where inbox_id = p_inbox_id and state = 'pending'
    -- By deal first: every POST locks deals in the same order, so concurrent POSTs cannot deadlock on deals.
    -- (Order between events of one deal doesn't change the result: newer state wins either way.)
    order by amocrm_id, amocrm_ts, id
    for update skip locked
  loop
    for v_try in 1..3 loop
      begin
        v_outcome := case v_event.entity
          when 'lead' then private.apply_lead_event(v_event.user_account_id, v_event.action, v_event.amocrm_id,
            v_event.amocrm_ts, v_event.payload, v_received)
          when 'contact' then private.apply_contact_event(v_event.user_account_id, v_event.amocrm_id, v_event.payload)
        end;
        update amocrm.webhook_events
        set state = 'applied', outcome = v_outcome, applied_at = now(), attempts = attempts + v_try, error = null
        where id = v_event.id;
        v_applied := v_applied + 1;
        exit;
      exception
        -- Contention is not the event's fault. Rolling back this event's subtransaction released its locks,
        -- so the other transaction goes on and a retry usually gets through; after three tries the event
        -- stays pending for the next pass (kick or cron).
        when deadlock_detected or serialization_failure or lock_not_available then
          if v_try = 3 then
            update amocrm.webhook_events set attempts = attempts + v_try, error = sqlerrm where id = v_event.id;
          end if;
        when others then
          update amocrm.webhook_events set state = 'quarantined', attempts = attempts + v_try, error = sqlerrm
          where id = v_event.id;
          raise warning 'webhook event % quarantined: %', v_event.id, sqlerrm;
          exit;
      end;
    end loop;
  end loop;
  update amocrm.webhook_inbox set state = 'processed'
  where id = p_inbox_id and state = 'received'
    and not exists (select 1 from amocrm.webhook_events e where e.inbox_id = p_inbox_id and e.state = 'pending');
  return v_applied;
end $$;
comment on function private.apply_webhook_events(bigint) is
  'Expand one stored webhook POST into events (dropping redeliveries) and apply them; a failing event is '
  'quarantined with its error, never blocks the rest.';

-- The cron backstop: inbox rows whose kick never came (crash, lost background task, a backlog the kicks
-- skipped). Works through the backlog in batches until it is empty or the time budget is spent.
create or replace function private.apply_pending_webhook_events(p_budget interval default interval '45 seconds')
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_deadline timestamptz := clock_timestamp() + p_budget;
  v_inbox_id bigint;
  v_batch integer;
  v_total integer := 0;
  v_after bigint := 0;
begin
  loop
    v_batch := 0;
    -- Keyset over the backlog: a row left received (an event hit contention) waits for the next run.
    for v_inbox_id in
      select i.id from amocrm.webhook_inbox i where i.state = 'received' and i.id > v_after order by i.id limit 200
    loop
      v_total := v_total + private.apply_webhook_events(v_inbox_id);
      v_batch := v_batch + 1;
      v_after := v_inbox_id;
      exit when clock_timestamp() > v_deadline;
    end loop;
    exit when v_batch = 0 or clock_timestamp() > v_deadline;
  end loop;
  return v_total;
end $$;
comment on function private.apply_pending_webhook_events(interval) is
  'Apply events left pending (the kick after intake is best-effort) until none is left or the budget is spent; '
  'called by pg_cron every minute.';

do $$
declare
  f text;
begin
  foreach f in array array[
    'private.lock_deal(uuid, bigint)', 'private.webhook_int(text)', 'private.webhook_numeric(text)',
    'private.pipeline_of_status(uuid, integer)',
    'private.link_deal_to_lead(uuid, bigint)',
    'private.record_transition(uuid, bigint, integer, integer, integer, integer, timestamptz, text, boolean, jsonb)',
    'private.enqueue_deal_confirmation(uuid, bigint)',
    'private.is_newer_state(timestamptz, text, timestamptz, text)',
    'private.apply_lead_event(uuid, text, bigint, bigint, jsonb, timestamptz)',
    'private.apply_contact_event(uuid, bigint, jsonb)', 'private.apply_webhook_events(bigint)',
    'private.apply_pending_webhook_events(interval)'
  ] loop
    execute format('revoke execute on function %s from public, anon, authenticated', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
end $$;
