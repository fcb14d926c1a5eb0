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
    -- Within a deal and second: add, then status, then the rest, the order amoCRM made them in. State does not
    -- depend on it, but a status event's old pipeline may come from the stored state: an update of the same
    -- second applied first (a won deal reopened into another pipeline) would make it the new one.
    order by amocrm_id, amocrm_ts, case action when 'add' then 0 when 'status' then 1 else 2 end, id
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
revoke all on function private.apply_pending_webhook_events(interval) from public;
grant execute on function private.apply_pending_webhook_events(interval) to service_role;
