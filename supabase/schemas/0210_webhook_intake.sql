-- Webhook intake: the one SQL round trip behind amoCRM's 200. A POST is stored as one amocrm.webhook_inbox row
-- (raw body + parsed events, or quarantined with the reason) before the function answers; applying the
-- events happens afterwards (0250_webhook_apply.sql).
--   private.receive_webhook              store one POST (plpgsql: its plan is cached per connection)
--   private.receive_webhook_if_connected the guard: only for an active connection of the signed account
--   private.receive_webhooks             several POSTs in one statement: acks that arrive while an insert is
--                                        running share the next one (each keeps its row, guard and answer)
--   private.expand_webhook_events        split an inbox row into amocrm.webhook_events (dedupe key)
-- Why plpgsql and batching: docs/decisions/webhook-intake.md.
create or replace function private.receive_webhook(
  p_user_account_id uuid,
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
  return query
  insert into amocrm.webhook_inbox as i (user_account_id, content_type, raw_body, events, event_count, state, error)
  values (
    p_user_account_id,
    p_content_type,
    p_raw_body,
    case when p_quarantine_reason is null then coalesce(p_events, '[]'::jsonb) else '[]'::jsonb end,
    case when p_quarantine_reason is null then coalesce(jsonb_array_length(p_events), 0) else 0 end,
    case
      when p_quarantine_reason is not null then 'quarantined'
      when coalesce(jsonb_array_length(p_events), 0) = 0 then 'processed'
      else 'received'
    end,
    p_quarantine_reason
  )
  returning i.id, i.event_count;
end $$;
comment on function private.receive_webhook(uuid, text, text, jsonb, text) is
  'Store one webhook POST: the raw body and its parsed events in one row (state received), or the raw body as '
  'quarantined with the reason when it could not be parsed. Events are JSON objects '
  '{entity: lead|contact, action, amocrm_id, amocrm_ts, payload}.';
revoke all on function private.receive_webhook(uuid,text,text,jsonb,text) from public;
grant execute on function private.receive_webhook(uuid,text,text,jsonb,text) to service_role;

-- Splits an inbox row's events into amocrm.webhook_events. The dedupe key is the event's identity at amoCRM
-- (entity, action, id, amoCRM time) plus a hash of its content: a redelivered event (amoCRM resends the same
-- body) finds its key taken and is dropped here, while a different change in the same second (74→75, then
-- 75→76) is a new event. Every key is a function of the row, so expanding the same row again (a retry, two
-- appliers at once) adds nothing.
create or replace function private.expand_webhook_events(p_inbox_id bigint)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_inbox amocrm.webhook_inbox;
  v_new integer;
begin
  select * into v_inbox from amocrm.webhook_inbox where id = p_inbox_id;
  if v_inbox.id is null then
    return 0;
  end if;

  with incoming as (
    select
      e ->> 'entity' as entity,
      e ->> 'action' as action,
      (e ->> 'amocrm_id')::bigint as amocrm_id,
      (e ->> 'amocrm_ts')::bigint as amocrm_ts,
      e -> 'payload' as payload
    from jsonb_array_elements(v_inbox.events) e
  ), inserted as (
    insert into amocrm.webhook_events (inbox_id, user_account_id, entity, action, amocrm_id, amocrm_ts, dedupe_key, payload)
    select v_inbox.id, v_inbox.user_account_id, i.entity, i.action, i.amocrm_id, i.amocrm_ts,
      case
        -- Same time, same content = a redelivery; same time, other content = another edit in that second.
        when i.amocrm_ts > 0 then concat_ws(':', i.entity, i.action, i.amocrm_id, i.amocrm_ts, md5(i.payload::text))
        -- Deletes carry no time and look alike every time: re-applying one is harmless, so never dedupe it
        -- (a delete after a restore must not be mistaken for a redelivery).
        when i.action = 'delete' then concat_ws(':', i.entity, i.action, i.amocrm_id, 'inbox', v_inbox.id)
        -- Other events without an amoCRM time (Digital Pipeline): identical content = the same event.
        else concat_ws(':', i.entity, i.action, i.amocrm_id, 0, md5(i.payload::text))
      end,
      i.payload
    from incoming i
    on conflict (user_account_id, dedupe_key) do nothing
    returning 1
  )
  select count(*) into v_new from inserted;
  return v_new;
end $$;
comment on function private.expand_webhook_events(bigint) is
  'Split one inbox row''s parsed events into amocrm.webhook_events, dropping redeliveries (dedupe key: entity, '
  'action, id, amoCRM time and a hash of the content). Idempotent; returns how many events were new.';
revoke all on function private.expand_webhook_events(bigint) from public;
grant execute on function private.expand_webhook_events(bigint) to service_role;

-- The one rule for "does this body's account block belong to the connection": the intake guard stores only
-- when it answers null, and the function asks it again to explain a refusal.
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
revoke all on function private.webhook_account_mismatch(bigint, text, text, text) from public;
grant execute on function private.webhook_account_mismatch(bigint, text, text, text) to service_role;

-- A webhook carries no server time, so event times are bounded by their receipt: an event stamped further
-- ahead than this is quarantined (one bogus updated_at must never outrank every later webhook and API read).
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
revoke all on function private.webhook_clock_tolerance() from public;
grant execute on function private.webhook_clock_tolerance() to service_role;

-- The intake's one round trip: store the POST only when the user account has a connection that accepts the
-- URL's key version and the account the body claims (amoCRM webhooks carry no signature of their own).
-- Returns no row when nothing was stored; the function then asks why, off the hot path.
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
    -- GUARD: a connection the user disconnected takes nothing more (amoCRM may still deliver to it).
    and c.state <> 'disconnected'
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
  'Store a webhook POST (private.receive_webhook) only if the connection is not disconnected and accepts its key '
  'version and claimed account (private.webhook_account_mismatch); no row = nothing stored.';
revoke all on function private.receive_webhook_if_connected(uuid,integer,text,text,text,text,jsonb,text) from public;
grant execute on function private.receive_webhook_if_connected(uuid,integer,text,text,text,text,jsonb,text) to service_role;

create or replace function private.receive_webhooks(p_posts jsonb)
returns table (post_index integer, inbox_id bigint, event_count integer)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query
  select (p.ordinality - 1)::integer, r.inbox_id, r.event_count
  from jsonb_array_elements(p_posts) with ordinality p
  cross join lateral private.receive_webhook_if_connected(
    (p.value ->> 'user_account_id')::uuid,
    (p.value ->> 'key_version')::integer,
    p.value ->> 'claimed_account_id',
    p.value ->> 'claimed_subdomain',
    p.value ->> 'content_type',
    p.value ->> 'raw_body',
    p.value -> 'events',
    p.value ->> 'quarantine_reason'
  ) r
  order by 1;
end $$;
comment on function private.receive_webhooks(jsonb) is
  'Store several webhook POSTs in one transaction, each as private.receive_webhook_if_connected would. '
  'p_posts is a JSON array of {user_account_id, key_version, claimed_account_id, claimed_subdomain, '
  'content_type, raw_body, events, quarantine_reason}; returns a row per stored POST with its 0-based index. '
  'A refused POST has no row.';
revoke all on function private.receive_webhooks(jsonb) from public;
grant execute on function private.receive_webhooks(jsonb) to service_role;
