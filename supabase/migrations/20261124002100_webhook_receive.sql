-- Storing a webhook: the raw body and its parsed events are committed together, before anything is applied.
-- Called by the amocrm-webhook function right after it authenticated and parsed the POST.

create or replace function private.receive_webhook(
  p_user_account_id uuid,
  p_content_type text,
  p_raw_body text,
  p_events jsonb,
  p_quarantine_reason text default null
)
returns table (inbox_id bigint, new_events integer, duplicate_events integer)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_inbox_id bigint;
  v_total integer := coalesce(jsonb_array_length(p_events), 0);
  v_new integer;
begin
  insert into amocrm.webhook_inbox (user_account_id, content_type, raw_body, event_count, state, error)
  values (
    p_user_account_id, p_content_type, p_raw_body, v_total,
    case when p_quarantine_reason is null then 'received' else 'quarantined' end,
    p_quarantine_reason
  )
  returning id into v_inbox_id;

  if p_quarantine_reason is not null then
    return query select v_inbox_id, 0, 0;
    return;
  end if;

  -- The dedupe key is the event's identity at amoCRM (entity, action, id, amoCRM time): redelivering it is a
  -- no-op.
  with incoming as (
    select
      e ->> 'entity' as entity,
      e ->> 'action' as action,
      (e ->> 'amocrm_id')::bigint as amocrm_id,
      (e ->> 'amocrm_ts')::bigint as amocrm_ts,
      e -> 'payload' as payload
    from jsonb_array_elements(p_events) e
  ), inserted as (
    insert into amocrm.webhook_events (inbox_id, user_account_id, entity, action, amocrm_id, amocrm_ts, dedupe_key, payload)
    select v_inbox_id, p_user_account_id, i.entity, i.action, i.amocrm_id, i.amocrm_ts,
      case
        when i.amocrm_ts > 0 then concat_ws(':', i.entity, i.action, i.amocrm_id, i.amocrm_ts)
        -- Deletes carry no time and look alike every time: re-applying one is harmless, so never dedupe it
        -- (a delete after a restore must not be mistaken for a redelivery).
        when i.action = 'delete' then concat_ws(':', i.entity, i.action, i.amocrm_id, 'inbox', v_inbox_id)
        -- Other events without an amoCRM time (Digital Pipeline): identical content = the same event.
        else concat_ws(':', i.entity, i.action, i.amocrm_id, 0, md5(i.payload::text))
      end,
      i.payload
    from incoming i
    on conflict (user_account_id, dedupe_key) do nothing
    returning 1
  )
  select count(*) into v_new from inserted;

  update amocrm.webhook_inbox set state = case when v_new = 0 then 'processed' else 'received' end
  where id = v_inbox_id;
  return query select v_inbox_id, v_new, v_total - v_new;
end $$;

comment on function private.receive_webhook(uuid, text, text, jsonb, text) is
  'Store one webhook POST: the raw body and its parsed events (deduplicated) in one transaction, or the raw body '
  'as quarantined with the reason when it could not be parsed. Events are JSON objects '
  '{entity: lead|contact, action, amocrm_id, amocrm_ts, payload}.';
revoke execute on function private.receive_webhook(uuid, text, text, jsonb, text) from public, anon, authenticated;
grant execute on function private.receive_webhook(uuid, text, text, jsonb, text) to service_role;
