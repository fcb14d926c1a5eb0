-- Deletion in the order it was observed. A delete webhook carries no amoCRM time (only id, status and
-- pipeline), so deletion cannot be ordered like the rest of a deal's state (by amoCRM's updated_at). It has its
-- own clock: when a delete/restore webhook was received, or when an API read that saw the deal began. The
-- newest observation wins, so an API read that began before a delete arrived cannot bring the deal back.
--   amocrm_deals.deletion_seen_at   the time of the observation is_deleted comes from (0200)
--   private.observe_deletion(…)     apply one observation if it is not older than that
-- Callers: apply_lead_event (delete/restore at the webhook's received_at); apply_deal_snapshot,
-- mark_deal_missing, reconcile_deal_snapshots (at p_read_at, when the API read began).
comment on column public.amocrm_deals.deletion_seen_at is
  'When (our clock) the observation is_deleted comes from was made: a delete/restore webhook''s receipt or the '
  'start of an API read. An older observation never changes is_deleted.';

create or replace function private.observe_deletion(
  p_user_account_id uuid,
  p_amocrm_lead_id bigint,
  p_is_deleted boolean,
  p_seen_at timestamptz
)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_was_deleted boolean;
begin
  -- The caller holds private.lock_deal. At equal times the one applied last wins (events of one POST).
  select is_deleted into v_was_deleted from public.amocrm_deals
  where user_account_id = p_user_account_id and amocrm_lead_id = p_amocrm_lead_id
    and (deletion_seen_at is null or deletion_seen_at <= p_seen_at);
  if not found then
    return 'stale';
  end if;
  if v_was_deleted = p_is_deleted then
    -- Only the time moves (is_deleted stays out of the SET list: the lead mirror trigger needn't run).
    update public.amocrm_deals set deletion_seen_at = p_seen_at
    where user_account_id = p_user_account_id and amocrm_lead_id = p_amocrm_lead_id;
    return 'unchanged';
  end if;
  update public.amocrm_deals set
    is_deleted = p_is_deleted,
    deleted_at = case when p_is_deleted then p_seen_at end,
    deletion_seen_at = p_seen_at
  where user_account_id = p_user_account_id and amocrm_lead_id = p_amocrm_lead_id;
  return 'changed';
end $$;
comment on function private.observe_deletion(uuid, bigint, boolean, timestamptz) is
  'Set a deal''s is_deleted from an observation made at p_seen_at unless a newer one is stored. Returns '
  'changed | unchanged | stale (older than the stored observation: nothing written).';
revoke all on function private.observe_deletion(uuid,bigint,boolean,timestamp with time zone) from public;
grant execute on function private.observe_deletion(uuid,bigint,boolean,timestamp with time zone) to service_role;
