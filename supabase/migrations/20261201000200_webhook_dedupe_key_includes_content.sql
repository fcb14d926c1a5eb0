-- A webhook event's dedupe key now includes a hash of its content, for timed events too.
-- The key was (entity, action, id, amoCRM time). amoCRM's times have one-second resolution and it sends no
-- delivery id, so two different edits of one deal in the same second (a manager and a robot, two quick saves)
-- had the same key: the one received second was dropped as a "redelivery", and which edit the deal kept
-- depended on the delivery order. A real redelivery repeats the body exactly, so identical content is still
-- dropped; different content at the same time is a new event, and the newer-wins tiebreak picks the same
-- winner in any order. Applying an event is idempotent, so keys stored before this change need no rewrite
-- (a redelivery of an event received before it is applied once more, harmlessly).
--   private.expand_webhook_events(bigint)   key = entity:action:id:time:md5(payload) for timed events

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
