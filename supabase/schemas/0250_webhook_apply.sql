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
  -- GUARD: lock order (0232): the deals of this slice first, in key order; shared rows at the end.
  perform private.begin_apply();
  perform private.prepare_webhook_rows(array[p_inbox_id]);
  if current_setting('amo_roi.deal_locks', true) is distinct from txid_current()::text then
    perform private.lock_webhook_deals(array[p_inbox_id], p_max_events);
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
  perform private.end_apply();
  return next;
end $$;
comment on function private.apply_webhook_events_slice(bigint, integer, interval) is
  'Apply at most p_max_events (null = all) of one stored webhook POST''s pending events, and none after p_budget '
  '(null = no limit) has passed, expanding the row first '
  'if needed; each event isolated (a failing one is quarantined with its error), an event whose amoCRM time is '
  'beyond private.webhook_clock_tolerance() after receipt quarantined. Returns events applied, quarantined and '
  'still pending (0 = the row is processed). An apply entry point (0232): its deals are locked up front, its '
  'shared-row writes made when the outermost entry point ends.';
revoke all on function private.apply_webhook_events_slice(bigint, integer, interval) from public;
grant execute on function private.apply_webhook_events_slice(bigint, integer, interval) to service_role;

-- The first slice splits a row; later ones find its events already there (a row whose events were all
-- redeliveries has none, and is finished by the first slice).
create or replace function private.prepare_webhook_rows(p_inbox_ids bigint[])
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform private.expand_webhook_events(i.id)
  from amocrm.webhook_inbox i
  where i.id = any (p_inbox_ids) and i.state = 'received'
    and not exists (select 1 from amocrm.webhook_events e where e.inbox_id = i.id);
end $$;
comment on function private.prepare_webhook_rows(bigint[]) is
  'Split the received inbox rows among these that have no events yet (private.expand_webhook_events).';
revoke all on function private.prepare_webhook_rows(bigint[]) from public;
grant execute on function private.prepare_webhook_rows(bigint[]) to service_role;

-- The deals the next slices of these rows will lock (at most p_max_events events per row, in the slice's
-- order): a lead event's deal, a contact event's linked leads as its payload names them.
create or replace function private.lock_webhook_deals(p_inbox_ids bigint[], p_max_events integer default null)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_accounts uuid[];
  v_deals bigint[];
begin
  select array_agg(e.user_account_id), array_agg(x.deal_id) into v_accounts, v_deals
  from unnest(p_inbox_ids) as r (inbox_id)
  cross join lateral (
    select w.user_account_id, w.entity, w.amocrm_id, w.payload
    from amocrm.webhook_events w
    where w.inbox_id = r.inbox_id and w.state = 'pending'
    order by w.amocrm_id, w.amocrm_ts, case w.action when 'add' then 0 when 'status' then 1 else 2 end, w.id
    limit p_max_events
  ) e
  cross join lateral (
    select e.amocrm_id where e.entity = 'lead'
    union all
    select private.webhook_int(k)
    from jsonb_object_keys(case when e.entity = 'contact' and jsonb_typeof(e.payload -> 'linked_leads_id') = 'object'
      then e.payload -> 'linked_leads_id' else '{}'::jsonb end) k
  ) x (deal_id);
  perform private.lock_deals(v_accounts, v_deals);
end $$;
comment on function private.lock_webhook_deals(bigint[], integer) is
  'Lock up front, in key order (private.lock_deals), the deals of the next p_max_events pending events of '
  'each of these inbox rows.';
revoke all on function private.lock_webhook_deals(bigint[], integer) from public;
grant execute on function private.lock_webhook_deals(bigint[], integer) to service_role;

-- Several POSTs' slices in one transaction (the intake's apply queue): all their deals are locked up front
-- together, and the shared rows are written once at the end, so the rows never lock out of order.
create or replace function private.apply_webhook_events_slices(
  p_inbox_ids bigint[],
  p_max_events integer,
  p_budget interval default null
)
returns table (inbox_id bigint, applied integer, quarantined integer, pending integer)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_slice record;
begin
  perform private.begin_apply();
  perform private.prepare_webhook_rows(p_inbox_ids);
  perform private.lock_webhook_deals(p_inbox_ids, p_max_events);
  for inbox_id in select u.id from unnest(p_inbox_ids) with ordinality as u (id, n) order by u.n loop
    select * into v_slice from private.apply_webhook_events_slice(inbox_id, p_max_events, p_budget);
    applied := v_slice.applied;
    quarantined := v_slice.quarantined;
    pending := v_slice.pending;
    return next;
  end loop;
  perform private.end_apply();
end $$;
comment on function private.apply_webhook_events_slices(bigint[], integer, interval) is
  'private.apply_webhook_events_slice for each of these inbox rows, in order, in one apply: their deals locked '
  'up front together, shared rows written once at the end. One result row per inbox row.';
revoke all on function private.apply_webhook_events_slices(bigint[], integer, interval) from public;
grant execute on function private.apply_webhook_events_slices(bigint[], integer, interval) to service_role;

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
  -- GUARD: lock order (0232): every pending event's deal up front, shared rows once at the end.
  perform private.begin_apply();
  perform private.prepare_webhook_rows(array[p_inbox_id]);
  perform private.lock_webhook_deals(array[p_inbox_id]);
  loop
    select * into v_slice from private.apply_webhook_events_slice(p_inbox_id, 500);
    v_total := v_total + v_slice.applied;
    -- Done, or what is left is held by another applier / hit contention: the next pass takes it.
    exit when v_slice.pending = 0 or v_slice.applied + v_slice.quarantined = 0;
  end loop;
  perform private.end_apply();
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
  v_inbox_ids bigint[];
  v_slice record;
  v_batch integer;
  v_total integer := 0;
  v_after bigint := 0;
begin
  perform private.begin_apply();
  loop
    v_batch := 0;
    -- Keyset over the backlog: a row left received (an event hit contention) waits for the next run.
    v_inbox_ids := array(
      select i.id from amocrm.webhook_inbox i where i.state = 'received' and i.id > v_after order by i.id limit 200);
    -- GUARD: lock order (0232): the batch's deals up front (only the first batch may wait for them).
    perform private.prepare_webhook_rows(v_inbox_ids);
    perform private.lock_webhook_deals(v_inbox_ids, 200);
    foreach v_inbox_id in array v_inbox_ids
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
  perform private.end_apply();
  return v_total;
end $$;
comment on function private.apply_pending_webhook_events(interval) is
  'Apply events left pending (the kick after intake is best-effort) until none is left or the budget is spent '
  '(checked between slices of 200 events); called by pg_cron every minute.';
revoke all on function private.apply_pending_webhook_events(interval) from public;
grant execute on function private.apply_pending_webhook_events(interval) to service_role;
