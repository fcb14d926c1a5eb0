-- What amoCRM documents (or leaves open), applied where the apply steps assumed more:
--   * A lead in the trash (GET /api/v4/leads?with=only_deleted) carries only id, updated_at, updated_by and
--     is_deleted = true (amoCRM's leads API page): no stage, pipeline or price.
--     private.apply_deal_snapshot now takes such a snapshot as a deletion observation only; the stage, price
--     and state order it knew stay as they were (a deal first seen in the trash keeps no stage at all).
--   * A lead_added event carries value_after [{note: {id}}] (amoCRM's events page), not the stage.
--     private.apply_status_change_event now derives the stage the deal was created in: where its first later
--     reported move started from, or — if it never moved — the stage it stands in now. The gap fill applies
--     a window's lead_added events after its moves, so those are in history first; a snapshot's
--     guessed transition that an event confirms becomes an events_api row, so it counts as a reported move.
--   * Whether a stage move's status and update hooks share a POST is undocumented; "the status hook was lost
--     while the update arrived" is a reported failure. private.apply_lead_event now records an update hook's
--     stage change that no status hook reported as a guessed transition (source 'api', replaced by the real
--     report from the status hook or the Events API), so history and qualification do not wait for reconcile.
-- Bodies copied from 20261124005500_deletion_order.sql (apply_lead_event, apply_deal_snapshot) and
-- 20261124005000_reconcile_apply.sql (apply_status_change_event); only the parts marked CHANGED differ.

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
  -- CHANGED: the documented trash model has no stage; it can only say "deleted".
  v_trash_only boolean := p_lead ->> 'status_id' is null or p_lead ->> 'pipeline_id' is null;
  v_main_contact bigint := (
    select (c ->> 'id')::bigint from jsonb_array_elements(coalesce(p_lead #> '{_embedded,contacts}', '[]')) c
    order by (c ->> 'is_main')::boolean desc nulls last limit 1);
  v_deal public.amocrm_deals;
  v_is_newer boolean := false;
  v_deletion text;
begin
  if v_trash_only and not v_is_deleted then
    raise exception using errcode = '22023',
      message = format('lead %s has no status_id/pipeline_id and is not deleted', v_id);
  end if;
  perform private.lock_deal(p_user_account_id, v_id);
  insert into public.amocrm_deals (user_account_id, amocrm_lead_id) values (p_user_account_id, v_id)
  on conflict do nothing;
  select * into v_deal from public.amocrm_deals
  where user_account_id = p_user_account_id and amocrm_lead_id = v_id for update;

  -- CHANGED: state (stage, price, name, order) only from a snapshot that carries it.
  if not v_trash_only then
    v_is_newer := private.is_newer_state(v_updated_at, '~', v_deal.amocrm_updated_at, v_deal.state_tiebreak);
  end if;
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
  'read began), attribute it, settle its sale. A trash snapshot without status_id/pipeline_id (the documented '
  'with=only_deleted model) is a deletion observation only: stage, price and state order stay as stored.';

create or replace function private.apply_status_change_event(p_user_account_id uuid, p_event jsonb)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_type text := p_event ->> 'type';
  v_deal bigint := private.webhook_int(p_event ->> 'entity_id');
  v_at timestamptz := to_timestamp(private.webhook_int(p_event ->> 'created_at'));
  v_before jsonb := (
    select v.value -> 'lead_status' from jsonb_array_elements(
      case jsonb_typeof(p_event -> 'value_before') when 'array' then p_event -> 'value_before' else '[]'::jsonb end
    ) v where v.value ? 'lead_status' limit 1);
  v_after jsonb := (
    select v.value -> 'lead_status' from jsonb_array_elements(
      case jsonb_typeof(p_event -> 'value_after') when 'array' then p_event -> 'value_after' else '[]'::jsonb end
    ) v where v.value ? 'lead_status' limit 1);
  v_to_status integer := private.webhook_int(v_after ->> 'id');
  v_to_pipeline integer := private.webhook_int(v_after ->> 'pipeline_id');
  v_from_status integer;
  v_from_pipeline integer;
  v_key text;
  v_old text;
  v_new text;
  v_superseded integer;
begin
  if p_event ->> 'entity_type' is distinct from 'lead' or v_type not in ('lead_status_changed', 'lead_added')
     or v_deal is null or v_at is null then
    return 'ignored';
  end if;
  -- CHANGED: lead_added carries a note, not the stage (amoCRM's events page). The deal was created in the stage
  -- its first later reported move left from (webhook or Events API row with a known from), or, if it has not
  -- moved since, in the stage it stands in now.
  if v_type = 'lead_added' and v_to_status is null then
    select h.from_status_id, h.from_pipeline_id into v_to_status, v_to_pipeline
    from public.amocrm_lead_status_history h
    where h.user_account_id = p_user_account_id and h.amocrm_lead_id = v_deal and h.changed_at >= v_at
      and h.source <> 'api' and h.from_status_id is not null
    order by h.changed_at, h.id
    limit 1;
    if v_to_status is null then
      select d.status_id, d.pipeline_id into v_to_status, v_to_pipeline
      from public.amocrm_deals d
      where d.user_account_id = p_user_account_id and d.amocrm_lead_id = v_deal;
    end if;
  end if;
  if v_to_status is null or v_to_pipeline is null then
    return 'ignored';
  end if;
  if v_type = 'lead_status_changed' then
    v_from_status := private.webhook_int(v_before ->> 'id');
    v_from_pipeline := private.webhook_int(v_before ->> 'pipeline_id');
  end if;

  -- The same key private.record_transition builds.
  v_key := concat_ws(':', v_deal, v_to_pipeline, v_to_status, extract(epoch from v_at)::bigint);
  select concat_ws('|', h.from_status_id, h.from_pipeline_id, h.source) into v_old
  from public.amocrm_lead_status_history h
  where h.user_account_id = p_user_account_id and h.event_key = v_key;

  perform private.record_transition(p_user_account_id, v_deal, v_from_status, v_from_pipeline,
    v_to_status, v_to_pipeline, v_at, 'events_api', true, p_event);
  -- CHANGED: a snapshot's guess that this event confirms (same stage, same time, same from) is no longer a
  -- guess. Left as 'api', a later lead_added would not count it as a reported move.
  update public.amocrm_lead_status_history h set source = 'events_api', webhook_data = p_event
  where h.user_account_id = p_user_account_id and h.event_key = v_key and h.source = 'api';

  v_superseded := private.drop_superseded_guesses(p_user_account_id, v_deal);

  select concat_ws('|', h.from_status_id, h.from_pipeline_id, h.source) into v_new
  from public.amocrm_lead_status_history h
  where h.user_account_id = p_user_account_id and h.event_key = v_key;

  -- History changes qualification: the deal's BEFORE trigger recomputes it (and mirrors it onto the lead).
  update public.amocrm_deals set is_qualified = is_qualified
  where user_account_id = p_user_account_id and amocrm_lead_id = v_deal;

  return case
    when v_old is null then 'inserted'
    when v_old is distinct from v_new or v_superseded > 0 then 'corrected'
    else 'unchanged'
  end;
end $$;
comment on function private.apply_status_change_event(uuid, jsonb) is
  'Apply one Events API lead_status_changed / lead_added event: history row with the real from/to and time '
  '(deduplicated with webhook rows, correcting a guessed from), superseded API guesses removed, qualification '
  'recomputed. A lead_added without a stage (the documented [{note}] value) is placed in the stage the first '
  'later reported move left from, or the current stage. Returns inserted | corrected | unchanged | ignored.';

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
    -- CHANGED: the update of this move came first and left a guess at the same key: the status hook reports it.
    update public.amocrm_lead_status_history h set source = 'webhook', webhook_data = p_payload
    where h.user_account_id = p_user_account_id and h.source = 'api'
      and h.event_key = concat_ws(':', p_amocrm_id, v_pipeline, v_status, p_amocrm_ts);
  end if;

  v_is_newer := private.is_newer_state(v_event_at, v_tiebreak, v_deal.amocrm_updated_at, v_deal.state_tiebreak);

  -- CHANGED: an update (or responsible/restore) hook that shows another stage than the stored one means a
  -- move whose status hook has not arrived (lost, or still to come). History gets it as a guess (source 'api',
  -- from = the stored stage) at the hook's time — the move's own time when the update came from the move. The
  -- status hook or the Events API replaces it with the real report.
  if v_is_newer and p_action in ('update', 'responsible', 'restore') and v_deal.status_id is not null
     and (v_deal.status_id, v_deal.pipeline_id) is distinct from (v_status, v_pipeline) then
    perform private.record_transition(p_user_account_id, p_amocrm_id, v_deal.status_id, v_deal.pipeline_id,
      v_status, v_pipeline, v_event_at, 'api', false, p_payload);
  end if;
  -- CHANGED: a guess that a real report (this status hook, say, delivered after the update) supersedes goes,
  -- so any delivery order ends with the same history.
  perform private.drop_superseded_guesses(p_user_account_id, p_amocrm_id);

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
  'delete/restore, attribution, and a confirmation job for money events. An update hook showing a stage the '
  'status hook has not reported records a guessed transition (source api) until the real report replaces it. '
  'Returns what it did.';
