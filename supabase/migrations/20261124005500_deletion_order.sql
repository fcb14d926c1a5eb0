-- Deletion in the order it happened. A delete webhook carries no amoCRM time (only id, status and pipeline),
-- so deletion cannot be ordered like the rest of a deal's state (by amoCRM's updated_at). It is ordered by our
-- own clock instead: when a delete/restore webhook was received, or when an API read that saw the deal began.
-- The newest observation wins. Before this, an API read that began before a delete arrived (a confirmation of
-- a won deal, say) but was applied after it brought the deal back to life, with a paid sale.
--   amocrm_deals.deletion_seen_at       the time of the observation is_deleted comes from
--   private.observe_deletion(…)         apply one observation if it is not older than that
--   apply_lead_event                    delete/restore observed at the webhook's received_at
--   apply_deal_snapshot, mark_deal_missing, reconcile_deal_snapshots
--                                       observed at p_read_at: when the API read began (default now())

alter table public.amocrm_deals add column if not exists deletion_seen_at timestamptz;
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

-- Delete and restore webhooks go through private.observe_deletion; the rest is unchanged.
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
    if private.observe_deletion(p_user_account_id, p_amocrm_id, true, p_received_at) = 'stale' then
      return 'stale'; -- a restore received later already said otherwise
    end if;
    -- A deleted won deal no longer counts: let the confirmation step settle its sale.
    if exists (select 1 from public.sales where user_account_id = p_user_account_id and amocrm_deal_id = p_amocrm_id) then
      perform private.enqueue_deal_confirmation(p_user_account_id, p_amocrm_id);
    end if;
    return 'deleted';
  end if;

  if p_action = 'restore' then
    perform private.observe_deletion(p_user_account_id, p_amocrm_id, false, p_received_at);
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

-- A snapshot's state is ordered by amoCRM's updated_at as before; its deletion by when the read began.
drop function if exists private.apply_deal_snapshot(uuid, jsonb, text, text);
create or replace function private.apply_deal_snapshot(
  p_user_account_id uuid,
  p_lead jsonb,
  p_contact_phone text default null,
  p_source text default 'api',
  p_read_at timestamptz default now()
)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_id bigint := (p_lead ->> 'id')::bigint;
  v_status integer := (p_lead ->> 'status_id')::integer;
  v_pipeline integer := (p_lead ->> 'pipeline_id')::integer;
  v_updated_at timestamptz := to_timestamp((p_lead ->> 'updated_at')::bigint);
  v_is_deleted boolean := coalesce((p_lead ->> 'is_deleted')::boolean, false);
  v_main_contact bigint := (
    select (c ->> 'id')::bigint from jsonb_array_elements(coalesce(p_lead #> '{_embedded,contacts}', '[]')) c
    order by (c ->> 'is_main')::boolean desc nulls last limit 1);
  v_deal public.amocrm_deals;
  v_is_newer boolean;
  v_deletion text;
begin
  perform private.lock_deal(p_user_account_id, v_id);
  insert into public.amocrm_deals (user_account_id, amocrm_lead_id) values (p_user_account_id, v_id)
  on conflict do nothing;
  select * into v_deal from public.amocrm_deals
  where user_account_id = p_user_account_id and amocrm_lead_id = v_id for update;

  v_is_newer := private.is_newer_state(v_updated_at, '~', v_deal.amocrm_updated_at, v_deal.state_tiebreak);
  if v_is_newer then
    -- A stage we never saw a transition into (missed webhooks): history gets it at the API's time.
    if (v_deal.status_id, v_deal.pipeline_id) is distinct from (v_status, v_pipeline) then
      perform private.record_transition(p_user_account_id, v_id, v_deal.status_id, v_deal.pipeline_id,
        v_status, v_pipeline, v_updated_at, p_source, false, p_lead);
    end if;
    update public.amocrm_deals set
      name = p_lead ->> 'name',
      pipeline_id = v_pipeline,
      status_id = v_status,
      price = (p_lead ->> 'price')::numeric,
      responsible_user_id = (p_lead ->> 'responsible_user_id')::bigint,
      amocrm_created_at = to_timestamp((p_lead ->> 'created_at')::bigint),
      amocrm_updated_at = v_updated_at,
      state_tiebreak = '~',
      closed_at = to_timestamp(nullif(p_lead ->> 'closed_at', '')::bigint)
    where user_account_id = p_user_account_id and amocrm_lead_id = v_id;
  end if;
  v_deletion := private.observe_deletion(p_user_account_id, v_id, v_is_deleted, p_read_at);

  update public.amocrm_deals set
    main_contact_id = coalesce(v_main_contact, main_contact_id),
    contact_phone_e164 = coalesce(private.normalize_phone(p_contact_phone), contact_phone_e164)
  where user_account_id = p_user_account_id and amocrm_lead_id = v_id;

  perform private.link_deal_to_lead(p_user_account_id, v_id);
  perform private.settle_sale(p_user_account_id, v_id);
  return case when v_is_newer or v_deletion = 'changed' then 'applied' else 'stale' end;
end $$;
comment on function private.apply_deal_snapshot(uuid, jsonb, text, text, timestamptz) is
  'Apply a deal as the amoCRM API returns it (state authoritative at equal amoCRM times, deletion as of when the '
  'read began), attribute it, settle its sale.';

-- The API answered 204 for a deal we know: it was deleted in amoCRM (unless a restore arrived since the read began).
drop function if exists private.mark_deal_missing(uuid, bigint);
create or replace function private.mark_deal_missing(
  p_user_account_id uuid,
  p_amocrm_lead_id bigint,
  p_read_at timestamptz default now()
)
returns text
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform private.lock_deal(p_user_account_id, p_amocrm_lead_id);
  perform private.observe_deletion(p_user_account_id, p_amocrm_lead_id, true, p_read_at);
  return private.settle_sale(p_user_account_id, p_amocrm_lead_id);
end $$;
comment on function private.mark_deal_missing(uuid, bigint, timestamptz) is
  'A deal the API no longer returned in a read begun at p_read_at is deleted (unless observed alive since); '
  'its sale, if any, is settled.';

drop function if exists private.reconcile_deal_snapshots(uuid, jsonb, jsonb, text);
create or replace function private.reconcile_deal_snapshots(
  p_user_account_id uuid,
  p_leads jsonb,
  p_phones jsonb default '{}'::jsonb,
  p_source text default 'api',
  p_read_at timestamptz default now()
)
returns table (deal_id bigint, outcome text)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_lead jsonb;
  v_before text;
  v_after text;
  v_result text;
begin
  -- Ascending ids: concurrent pages and webhook applies lock deals in a consistent order.
  for v_lead in
    select l.value from jsonb_array_elements(coalesce(p_leads, '[]'::jsonb)) l
    order by private.webhook_int(l.value ->> 'id') nulls last
  loop
    deal_id := null;
    begin
      deal_id := (v_lead ->> 'id')::bigint;
      select concat_ws('|', d.pipeline_id, d.status_id, d.price, d.is_deleted) into v_before
      from public.amocrm_deals d
      where d.user_account_id = p_user_account_id and d.amocrm_lead_id = deal_id;
      v_result := private.apply_deal_snapshot(p_user_account_id, v_lead, p_phones ->> deal_id::text, p_source,
        p_read_at);
      perform private.drop_superseded_guesses(p_user_account_id, deal_id);
      if v_result = 'applied' then
        select concat_ws('|', d.pipeline_id, d.status_id, d.price, d.is_deleted) into v_after
        from public.amocrm_deals d
        where d.user_account_id = p_user_account_id and d.amocrm_lead_id = deal_id;
        if v_before is distinct from v_after then
          v_result := 'healed';
        end if;
      end if;
    exception when others then
      v_result := 'error: ' || sqlerrm;
    end;
    outcome := v_result;
    return next;
  end loop;
end $$;
comment on function private.reconcile_deal_snapshots(uuid, jsonb, jsonb, text, timestamptz) is
  'Apply a page of API leads (reconcile, backfill) read at p_read_at through apply_deal_snapshot, each isolated; per lead '
  'healed | applied | stale | error: … (healed = applied and stage/price/deletion changed or deal was missing).';

do $$
declare
  f text;
begin
  foreach f in array array[
    'private.observe_deletion(uuid, bigint, boolean, timestamptz)',
    'private.apply_deal_snapshot(uuid, jsonb, text, text, timestamptz)',
    'private.mark_deal_missing(uuid, bigint, timestamptz)',
    'private.reconcile_deal_snapshots(uuid, jsonb, jsonb, text, timestamptz)'
  ] loop
    execute format('revoke execute on function %s from public, anon, authenticated', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
end $$;
