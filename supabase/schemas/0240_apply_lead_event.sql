-- One webhook event applied to the deal mirror (the rules are in 0230's header): add/update/status/
-- responsible change newer-wins; delete/restore through private.observe_deletion (0235); several moves within
-- one amoCRM second end where their chain ends (private.same_second_chain_end), whatever order they arrive in;
-- a contact event refreshes the contact phone and links deals by it.
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
  v_price numeric := private.lead_amount(p_payload);
  v_created bigint := coalesce(private.webhook_int(p_payload ->> 'created_at'), private.webhook_int(p_payload ->> 'date_create'));
  v_event_at timestamptz := case when p_amocrm_ts > 0 then to_timestamp(p_amocrm_ts) end;
  v_tiebreak text := md5(concat_ws('|', p_action, v_status, v_pipeline, v_price, p_payload ->> 'name'));
  v_is_newer boolean;
  v_money boolean := false;
  v_state_at timestamptz;
  v_end_status integer;
  v_end_pipeline integer;
  v_from_pipeline integer;
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
  -- Webhooks carry only the legacy integer price (captured bodies): the truncation of the exact amount the
  -- API gave us is that same amount, not a price edit.
  if p_payload ->> 'price_with_minor_units' is null and v_price = trunc(v_deal.price) then
    v_price := v_deal.price;
  end if;

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
    -- The old pipeline (account webhooks do not carry it): the catalog knows it, except for 142/143, which
    -- exist in every pipeline: then where the deal last entered that status, up to this second; or the
    -- stored state if it is that status and not newer than this event; or, last, the new pipeline.
    v_from_pipeline := coalesce(v_old_pipeline, private.pipeline_of_status(p_user_account_id, v_old_status));
    if v_from_pipeline is null then
      select h.to_pipeline_id into v_from_pipeline
      from public.amocrm_lead_status_history h
      where h.user_account_id = p_user_account_id and h.amocrm_lead_id = p_amocrm_id
        and h.to_status_id = v_old_status and h.changed_at <= v_event_at
      order by h.changed_at desc, h.to_pipeline_id
      limit 1;
    end if;
    perform private.record_transition(p_user_account_id, p_amocrm_id, v_old_status,
      coalesce(v_from_pipeline,
        case when v_deal.status_id = v_old_status and v_deal.amocrm_updated_at <= v_event_at then v_deal.pipeline_id end,
        v_pipeline),
      v_status, v_pipeline, v_event_at, 'webhook', true, p_payload);
    -- An API read that overtook this webhook guessed the same transition at a later time: it goes.
    perform private.drop_superseded_guesses(p_user_account_id, p_amocrm_id);
  end if;

  v_is_newer := private.is_newer_state(v_event_at, v_tiebreak, v_deal.amocrm_updated_at, v_deal.state_tiebreak);

  -- An update (or responsible/restore) hook that shows another stage than the stored one means a
  -- move whose status hook has not arrived (lost, or still to come). History gets it as a guess (source 'api',
  -- from = the stored stage) at the hook's time — the move's own time when the update came from the move. The
  -- status hook or the Events API replaces it with the real report.
  if v_is_newer and p_action in ('update', 'responsible', 'restore') and v_deal.status_id is not null
     and (v_deal.status_id, v_deal.pipeline_id) is distinct from (v_status, v_pipeline) then
    perform private.record_transition(p_user_account_id, p_amocrm_id, v_deal.status_id, v_deal.pipeline_id,
      v_status, v_pipeline, v_event_at, 'api', false, p_payload);
  end if;
  -- A guess that a real report (this status hook, say, delivered after the update) supersedes goes,
  -- so any delivery order ends with the same history.
  perform private.drop_superseded_guesses(p_user_account_id, p_amocrm_id);

  -- STEP: moves within the second the deal's state is from end where their chain ends, in any arrival order
  -- (an API snapshot of that second is the truth and is left alone).
  v_state_at := case when v_is_newer then v_event_at else v_deal.amocrm_updated_at end;
  if (case when v_is_newer then v_tiebreak else v_deal.state_tiebreak end) <> '~'
     and (v_is_newer or v_event_at = v_state_at or p_action in ('add', 'status')) then
    select e.pipeline_id, e.status_id into v_end_pipeline, v_end_status
    from private.same_second_chain_end(p_user_account_id, p_amocrm_id, v_state_at) e;
  end if;

  if v_is_newer then
    v_status := coalesce(v_end_status, v_status);
    v_pipeline := coalesce(v_end_pipeline, v_pipeline);
    v_money := v_status in (142, 143) and v_deal.status_id is distinct from v_status
      or v_deal.status_id = 142 and v_status <> 142
      or v_status = 142 and v_deal.price is distinct from v_price
      -- A new price known only to the ruble (the webhook's legacy integer): the API read gives the kopecks.
      or v_price <> 0 and v_deal.price is distinct from v_price and p_payload ->> 'price_with_minor_units' is null;

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
    -- Stale for state, but its history row (if any) may change qualification, or where its second ended.
    update public.amocrm_deals set
      is_qualified = is_qualified,
      pipeline_id = coalesce(v_end_pipeline, pipeline_id),
      status_id = coalesce(v_end_status, status_id)
    where user_account_id = p_user_account_id and amocrm_lead_id = p_amocrm_id;
    -- A stale won event still deserves a look: the API says what is true now.
    v_money := v_status in (142, 143) or v_end_status is not null and v_end_status is distinct from v_deal.status_id
      and (v_end_status in (142, 143) or v_deal.status_id = 142);
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
revoke all on function private.apply_lead_event(uuid,text,bigint,bigint,jsonb,timestamp with time zone) from public;
grant execute on function private.apply_lead_event(uuid,text,bigint,bigint,jsonb,timestamp with time zone) to service_role;

create or replace function private.apply_contact_event(
  p_user_account_id uuid,
  p_amocrm_id bigint,
  p_payload jsonb
)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_country text := private.account_phone_country(p_user_account_id);
  v_phone text;
  v_lead_id bigint;
begin
  -- The first PHONE value that normalizes; amoCRM lets managers type anything there.
  select private.normalize_phone(v ->> 'value', v_country) into v_phone
  from jsonb_array_elements(coalesce(p_payload -> 'custom_fields', '[]'::jsonb)) f,
       jsonb_array_elements(case jsonb_typeof(f -> 'values') when 'array' then f -> 'values' else '[]'::jsonb end) v
  where f ->> 'code' = 'PHONE' and private.normalize_phone(v ->> 'value', v_country) is not null
  limit 1;
  if v_phone is null then
    return 'no_phone';
  end if;

  for v_lead_id in
    select private.webhook_int(k) from jsonb_object_keys(coalesce(p_payload -> 'linked_leads_id', '{}'::jsonb)) k
    union
    select d.amocrm_lead_id from public.amocrm_deals d
    where d.user_account_id = p_user_account_id and d.main_contact_id = p_amocrm_id
  loop
    perform private.lock_deal(p_user_account_id, v_lead_id);
    insert into public.amocrm_deals (user_account_id, amocrm_lead_id, main_contact_id, contact_phone_e164)
    values (p_user_account_id, v_lead_id, p_amocrm_id, v_phone)
    on conflict (user_account_id, amocrm_lead_id) do update set
      main_contact_id = coalesce(public.amocrm_deals.main_contact_id, excluded.main_contact_id),
      contact_phone_e164 = excluded.contact_phone_e164
    where public.amocrm_deals.main_contact_id is null or public.amocrm_deals.main_contact_id = excluded.main_contact_id;
    perform private.link_deal_to_lead(p_user_account_id, v_lead_id);
  end loop;
  return 'applied';
end $$;
comment on function private.apply_contact_event(uuid, bigint, jsonb) is
  'Apply a contact add/update webhook: store the normalized phone on its deals and attribute them by phone.';
revoke all on function private.apply_contact_event(uuid,bigint,jsonb) from public;
grant execute on function private.apply_contact_event(uuid,bigint,jsonb) to service_role;
