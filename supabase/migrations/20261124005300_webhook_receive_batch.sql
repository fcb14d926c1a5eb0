-- The webhook ack path, cheaper under load.
--
-- 1. private.receive_webhook becomes plpgsql. As a `language sql` function that cannot be inlined (it inserts),
--    Postgres parsed and planned its body on every call; plpgsql caches the plan for the life of the
--    connection. Same signature, same behaviour, same grants (create or replace keeps them).
-- 2. private.receive_webhooks stores several POSTs in one statement: the function batches the acks that arrive
--    while an earlier insert is still running, so a burst costs one round trip per batch, not per POST. Each
--    POST still goes through private.receive_webhook_if_connected: the same guard, one inbox row each.

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
revoke execute on function private.receive_webhooks(jsonb) from public, anon, authenticated;
grant execute on function private.receive_webhooks(jsonb) to service_role;
