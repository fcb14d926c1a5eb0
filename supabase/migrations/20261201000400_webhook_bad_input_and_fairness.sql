-- Webhook intake: bad input never freezes a deal or wins a permanent 503, and one account's big POST never
-- holds up another account's events.
--
-- 1. The account guard is one rule in one place: private.webhook_account_mismatch() says why a body's
--    account block does not belong to a connection (null = it does). The intake's guard
--    (private.receive_webhook_if_connected) stores only when it says null; the function asks it again to explain
--    a refusal. Before, the guard compared account[id] as text and the function's explanation as a number, so
--    `account[id]=0777001` was refused without a reason and answered 503 for ever.
-- 2. Event times are bounded by when we received the event: a webhook has no server time, so an event stamped
--    more than private.webhook_clock_tolerance() (1 day) after its receipt is quarantined with the reason. One
--    bad `updated_at` (year 5138) used to outrank every later webhook and API snapshot of the deal.
-- 3. A stored POST is applied in slices: private.apply_webhook_events_slice() applies at most N of a row's
--    pending events per call, within a time budget, so the function can take turns between accounts (a
--    5,000-event POST no longer holds the one apply connection for seconds). private.apply_webhook_events(bigint)
--    and the cron backstop keep their signatures and apply whole rows, slice after slice.
-- Objects: private.webhook_account_mismatch (new), private.receive_webhook_if_connected (guard),
-- private.webhook_clock_tolerance (new), private.apply_webhook_events_slice (new),
-- private.apply_webhook_events (now a loop over slices), private.apply_pending_webhook_events (slices).

create or replace function private.webhook_account_mismatch(
  p_connection_account_id bigint,
  p_connection_subdomain text,
  p_claimed_account_id text,
  p_claimed_subdomain text
)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  -- plpgsql, not sql: with its SET clause a sql function is not inlined and would be planned again for every
  -- POST the guard checks; plpgsql evaluates this as a cached simple expression.
  return case
    -- The id is compared as a number written in decimal (amoCRM's PHP sender never pads it, but a number is a
    -- number): leading zeros are ignored, anything but digits never matches.
    when p_claimed_account_id is not null and p_connection_account_id is not null
      and not (p_claimed_account_id ~ '^[0-9]+$'
        and ltrim(p_claimed_account_id, '0') = ltrim(p_connection_account_id::text, '0'))
      then format('account[id] %s is not the connected account %s', p_claimed_account_id, p_connection_account_id)
    when p_claimed_subdomain is not null and lower(p_claimed_subdomain) <> lower(p_connection_subdomain)
      then format('account[subdomain] %L is not the connected subdomain %L', p_claimed_subdomain,
        p_connection_subdomain)
  end;
end $$;
comment on function private.webhook_account_mismatch(bigint, text, text, text) is
  'Why a webhook body''s account block (account[id], account[subdomain]; null = not given) does not belong to the '
  'connection with this amoCRM account id and subdomain, or null when it does. The one rule for the intake''s '
  'guard and for explaining its refusals.';

-- Same signature and behaviour as before, with the account check delegated to the one rule.
create or replace function private.receive_webhook_if_connected(
  p_user_account_id uuid,
  p_key_version integer,
  p_claimed_account_id text,
  p_claimed_subdomain text,
  p_content_type text,
  p_raw_body text,
  p_events jsonb,
  p_quarantine_reason text default null
)
returns table (inbox_id bigint, event_count integer)
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform 1
  from amocrm.connections c
  where c.user_account_id = p_user_account_id
    and c.webhook_key_version <= p_key_version
    and private.webhook_account_mismatch(c.amocrm_account_id, c.subdomain, p_claimed_account_id,
      p_claimed_subdomain) is null;
  if found then
    return query
    select r.inbox_id, r.event_count
    from private.receive_webhook(p_user_account_id, p_content_type, p_raw_body, p_events, p_quarantine_reason) r;
  end if;
end $$;
comment on function private.receive_webhook_if_connected(uuid, integer, text, text, text, text, jsonb, text) is
  'Store a webhook POST (private.receive_webhook) only if the connection accepts its key version and claimed '
  'account (private.webhook_account_mismatch); no row = nothing stored.';

create or replace function private.webhook_clock_tolerance()
returns interval
language sql
immutable
set search_path = ''
as $$
  select interval '1 day'
$$;
comment on function private.webhook_clock_tolerance() is
  'How far ahead of its receipt a webhook event''s amoCRM time may be (clock skew, time zones); an event beyond '
  'it is quarantined, so a bogus future time can never outrank later webhooks or API snapshots.';

-- The body of the former private.apply_webhook_events, with a limit, and the time bound before dispatch.
create or replace function private.apply_webhook_events_slice(
  p_inbox_id bigint,
  p_max_events integer,
  p_budget interval default null
)
returns table (applied integer, quarantined integer, pending integer)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_event amocrm.webhook_events;
  v_received timestamptz;
  v_latest bigint;
  v_deadline timestamptz := clock_timestamp() + p_budget;
  v_outcome text;
  v_try integer;
begin
  applied := 0;
  quarantined := 0;
  pending := 0;
  select i.received_at into v_received from amocrm.webhook_inbox i where i.id = p_inbox_id and i.state = 'received';
  if v_received is null then
    return next; -- already processed (or quarantined): nothing to do
    return;
  end if;
  -- The first slice splits the row; later ones find its events already there (a row whose events were all
  -- redeliveries has none, and is finished by the first slice).
  if not exists (select 1 from amocrm.webhook_events e where e.inbox_id = p_inbox_id) then
    perform private.expand_webhook_events(p_inbox_id);
  end if;
  v_latest := extract(epoch from v_received + private.webhook_clock_tolerance())::bigint;
  for v_event in
    select * from amocrm.webhook_events e
    where e.inbox_id = p_inbox_id and e.state = 'pending'
    -- By deal first: every POST locks deals in the same order, so concurrent POSTs cannot deadlock on deals.
    -- (Order between events of one deal doesn't change the result: newer state wins either way.)
    order by e.amocrm_id, e.amocrm_ts, e.id
    limit p_max_events
    for update skip locked
  loop
    for v_try in 1..3 loop
      begin
        if v_event.amocrm_ts > v_latest then
          raise exception using errcode = '22008', message = format(
            'amoCRM time %s is more than %s ahead of the webhook''s receipt at %s (unix %s)',
            v_event.amocrm_ts, private.webhook_clock_tolerance(), v_received,
            extract(epoch from v_received)::bigint);
        end if;
        v_outcome := case v_event.entity
          when 'lead' then private.apply_lead_event(v_event.user_account_id, v_event.action, v_event.amocrm_id,
            v_event.amocrm_ts, v_event.payload, v_received)
          when 'contact' then private.apply_contact_event(v_event.user_account_id, v_event.amocrm_id, v_event.payload)
        end;
        update amocrm.webhook_events
        set state = 'applied', outcome = v_outcome, applied_at = now(), attempts = attempts + v_try, error = null
        where id = v_event.id;
        applied := applied + 1;
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
          quarantined := quarantined + 1;
          exit;
      end;
    end loop;
    -- At least one event per call, so every slice makes progress.
    exit when clock_timestamp() > v_deadline;
  end loop;
  select count(*)::integer into pending
  from amocrm.webhook_events e where e.inbox_id = p_inbox_id and e.state = 'pending';
  if pending = 0 then
    update amocrm.webhook_inbox set state = 'processed' where id = p_inbox_id and state = 'received';
  end if;
  return next;
end $$;
comment on function private.apply_webhook_events_slice(bigint, integer, interval) is
  'Apply at most p_max_events (null = all) of one stored webhook POST''s pending events, and none after p_budget '
  '(null = no limit) has passed, expanding the row first '
  'if needed; each event isolated (a failing one is quarantined with its error), an event whose amoCRM time is '
  'beyond private.webhook_clock_tolerance() after receipt quarantined. Returns events applied, quarantined and '
  'still pending (0 = the row is processed).';

create or replace function private.apply_webhook_events(p_inbox_id bigint)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_slice record;
  v_total integer := 0;
begin
  loop
    select * into v_slice from private.apply_webhook_events_slice(p_inbox_id, 500);
    v_total := v_total + v_slice.applied;
    -- Done, or what is left is held by another applier / hit contention: the next pass takes it.
    exit when v_slice.pending = 0 or v_slice.applied + v_slice.quarantined = 0;
  end loop;
  return v_total;
end $$;
comment on function private.apply_webhook_events(bigint) is
  'Expand one stored webhook POST into events (dropping redeliveries) and apply them all, slice by slice '
  '(private.apply_webhook_events_slice); a failing event is quarantined with its error, never blocks the rest.';

-- The cron backstop, unchanged except that it stops between slices of a big row once its budget is spent.
create or replace function private.apply_pending_webhook_events(p_budget interval default interval '45 seconds')
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_deadline timestamptz := clock_timestamp() + p_budget;
  v_inbox_id bigint;
  v_slice record;
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
      loop
        select * into v_slice from private.apply_webhook_events_slice(v_inbox_id, 200);
        v_total := v_total + v_slice.applied;
        exit when v_slice.pending = 0 or v_slice.applied + v_slice.quarantined = 0
          or clock_timestamp() > v_deadline;
      end loop;
      v_batch := v_batch + 1;
      v_after := v_inbox_id;
      exit when clock_timestamp() > v_deadline;
    end loop;
    exit when v_batch = 0 or clock_timestamp() > v_deadline;
  end loop;
  return v_total;
end $$;
comment on function private.apply_pending_webhook_events(interval) is
  'Apply events left pending (the kick after intake is best-effort) until none is left or the budget is spent '
  '(checked between slices of 200 events); called by pg_cron every minute.';

do $$
declare
  f text;
begin
  foreach f in array array[
    'private.webhook_account_mismatch(bigint, text, text, text)',
    'private.receive_webhook_if_connected(uuid, integer, text, text, text, text, jsonb, text)',
    'private.webhook_clock_tolerance()',
    'private.apply_webhook_events_slice(bigint, integer, interval)',
    'private.apply_webhook_events(bigint)',
    'private.apply_pending_webhook_events(interval)'
  ] loop
    execute format('revoke execute on function %s from public, anon, authenticated', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
end $$;
