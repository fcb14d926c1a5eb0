-- At most p_max_events of one stored POST's pending events (and within p_budget), so the function can take
-- turns between accounts: one 5,000-event POST never holds the apply connection for seconds.
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
    -- Within a deal and second: add, then status, then the rest, the order amoCRM made them in. State does not
    -- depend on it, but a status event's old pipeline may come from the stored state: an update of the same
    -- second applied first (a won deal reopened into another pipeline) would make it the new one.
    order by e.amocrm_id, e.amocrm_ts, case e.action when 'add' then 0 when 'status' then 1 else 2 end, e.id
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
revoke all on function private.apply_webhook_events_slice(bigint, integer, interval) from public;
grant execute on function private.apply_webhook_events_slice(bigint, integer, interval) to service_role;

-- Applies every pending event of one inbox row. Each event runs in its own
-- subtransaction: a bad one is quarantined with its reason and the rest still apply.
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
revoke all on function private.apply_webhook_events(bigint) from public;
grant execute on function private.apply_webhook_events(bigint) to service_role;

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
revoke all on function private.apply_pending_webhook_events(interval) from public;
grant execute on function private.apply_pending_webhook_events(interval) to service_role;
