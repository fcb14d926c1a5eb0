-- Reconciliation's SQL side: where an incremental reconcile starts, applying a page of API leads while
-- counting what webhooks had missed, and recovering missed status transitions from the Events API.
--   private.reconcile_high_water(account)       newest amoCRM updated_at a finished reconcile/backfill covered
--   private.reconcile_watermark(account, …)     that high-water minus an overlap
--   private.reconcile_events_high_water(account) the same for the Events API pass
--   private.reconcile_deal_snapshots(…)         a page of API leads through private.apply_deal_snapshot
--   private.apply_status_change_event(…)        one lead_status_changed / lead_added event → history
--   private.drop_superseded_guesses(…)          a snapshot's guessed transition, once the real one is known
--
-- The watermark is "from persisted rows" of reconciliation itself, never max(amocrm_deals.amocrm_updated_at):
-- webhooks write that column too, so one delivered change of any deal would move the watermark past every
-- older change whose webhook was lost — exactly what reconciliation exists to find. The high-water comes only
-- from what a reconcile or backfill itself read from the API (amocrm.sync_runs.cursor.high_water).
create or replace function private.reconcile_high_water(p_user_account_id uuid)
returns bigint
language sql
stable
set search_path = ''
as $$
  select coalesce(max((r.cursor ->> 'high_water')::bigint), 0)
  from amocrm.sync_runs r
  where r.user_account_id = p_user_account_id
    and r.kind in ('reconcile', 'backfill')
    and r.state = 'done'
    and r.cursor ? 'high_water'
$$;
comment on function private.reconcile_high_water(uuid) is
  'Unix time up to which finished reconcile/backfill runs read every updated lead (0 = never).';
revoke all on function private.reconcile_high_water(uuid) from public;
grant execute on function private.reconcile_high_water(uuid) to service_role;

-- The Events API pass has its own high-water: it reads newest first, so a pass cut short by the time budget
-- covered only the newest part of its window, and must not hold back the leads' progress (nor ride on it).
-- A backfill reads the status events up to its start and records that as its events_high_water (runs from
-- before it did so have only high_water, where their lead scan ended).
create or replace function private.reconcile_events_high_water(p_user_account_id uuid)
returns bigint
language sql
stable
set search_path = ''
as $$
  select coalesce(max(coalesce((r.cursor ->> 'events_high_water')::bigint,
    case when r.kind = 'backfill' then (r.cursor ->> 'high_water')::bigint end)), 0)
  from amocrm.sync_runs r
  where r.user_account_id = p_user_account_id
    and r.kind in ('reconcile', 'backfill')
    and r.state = 'done'
$$;
comment on function private.reconcile_events_high_water(uuid) is
  'Unix time up to which finished runs read every status event (Events API) of the account (0 = never).';
revoke all on function private.reconcile_events_high_water(uuid) from public;
grant execute on function private.reconcile_events_high_water(uuid) to service_role;

create or replace function private.reconcile_watermark(p_user_account_id uuid, p_overlap interval default interval '10 minutes')
returns bigint
language sql
stable
set search_path = ''
as $$
  select case when hw = 0 then 0 else greatest(0, hw - extract(epoch from p_overlap)::bigint) end
  from (select private.reconcile_high_water(p_user_account_id) as hw) h
$$;
comment on function private.reconcile_watermark(uuid, interval) is
  'Unix time an incremental reconcile reads from: the high-water of finished reconcile/backfill runs minus an '
  'overlap for same-second writes and clock skew (0 = read everything). Never from webhook-written rows.';
revoke all on function private.reconcile_watermark(uuid,interval) from public;
grant execute on function private.reconcile_watermark(uuid,interval) to service_role;

-- An API snapshot that finds a deal in a stage we never saw it enter writes a guessed transition (source
-- 'api', "from" = whatever we had) at the snapshot's updated_at. Once a real report of entering that stage
-- exists (webhook or Events API) with nothing else happening to the deal in between, the guess is the same
-- transition at the wrong time: it goes. Whichever arrives first, snapshot or event, the result is the same.
create or replace function private.drop_superseded_guesses(p_user_account_id uuid, p_amocrm_lead_id bigint)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_dropped integer;
begin
  delete from public.amocrm_lead_status_history g
  where g.user_account_id = p_user_account_id and g.amocrm_lead_id = p_amocrm_lead_id and g.source = 'api'
    and exists (
      select 1 from public.amocrm_lead_status_history r
      where r.user_account_id = p_user_account_id and r.amocrm_lead_id = p_amocrm_lead_id
        and r.source <> 'api' and r.to_status_id = g.to_status_id and r.to_pipeline_id = g.to_pipeline_id
        and r.changed_at < g.changed_at
        and not exists (
          select 1 from public.amocrm_lead_status_history o
          where o.user_account_id = p_user_account_id and o.amocrm_lead_id = p_amocrm_lead_id
            and o.changed_at > r.changed_at and o.changed_at < g.changed_at));
  get diagnostics v_dropped = row_count;
  return v_dropped;
end $$;
comment on function private.drop_superseded_guesses(uuid, bigint) is
  'Delete a deal''s guessed (source api) transitions that a real report of entering the same stage, with '
  'nothing in between, has superseded. Returns how many went.';
revoke all on function private.drop_superseded_guesses(uuid,bigint) from public;
grant execute on function private.drop_superseded_guesses(uuid,bigint) to service_role;

-- One page of GET /api/v4/leads (JSON array) with the raw PHONE of each lead's main contact
-- ({"<lead id>": "<phone>"}). Each lead in its own subtransaction: one bad lead is reported, never blocks
-- the page. Outcome per lead:
--   healed   apply_deal_snapshot applied it AND the stored (pipeline, status, price, is_deleted) changed,
--            a deal we did not have at all included — state the webhooks had not delivered
--   applied  applied, but the stored stage/price/deletion were already right
--   stale    the stored state is newer than the snapshot
--   error: … the lead could not be applied (rolled back alone)
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
  -- GUARD: lock order (0232): the page's deals up front in key order, shared rows once at the end.
  perform private.begin_apply();
  perform private.lock_deals(
    array(select p_user_account_id from jsonb_array_elements(coalesce(p_leads, '[]'::jsonb)) l),
    array(select private.webhook_int(l.value ->> 'id') from jsonb_array_elements(coalesce(p_leads, '[]'::jsonb)) l));
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
  perform private.end_apply();
end $$;
comment on function private.reconcile_deal_snapshots(uuid, jsonb, jsonb, text, timestamptz) is
  'Apply a page of API leads (reconcile, backfill) read at p_read_at through apply_deal_snapshot, each isolated; per lead '
  'healed | applied | stale | error: … (healed = applied and stage/price/deletion changed or deal was missing).';
revoke all on function private.reconcile_deal_snapshots(uuid,jsonb,jsonb,text,timestamp with time zone) from public;
grant execute on function private.reconcile_deal_snapshots(uuid,jsonb,jsonb,text,timestamp with time zone) to service_role;

-- One Events API event. lead_status_changed carries the real old and new (pipeline, status) and the real
-- time; lead_added the initial placement. History is keyed by private.transition_key, so a transition a
-- webhook already recorded is not duplicated — its guessed "from" pipeline is corrected instead.
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
  -- Lead_added carries a note, not the stage (amoCRM's events page). The deal was created in the stage
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
  v_key := private.transition_key(v_deal, v_from_status, v_to_pipeline, v_to_status, v_at);
  select concat_ws('|', h.from_status_id, h.from_pipeline_id, h.source) into v_old
  from public.amocrm_lead_status_history h
  where h.user_account_id = p_user_account_id and h.event_key = v_key;

  perform private.record_transition(p_user_account_id, v_deal, v_from_status, v_from_pipeline,
    v_to_status, v_to_pipeline, v_at, 'events_api', true, p_event);
  -- A snapshot's guess that this event confirms (same stage, same time, same from) is no longer a
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
revoke all on function private.apply_status_change_event(uuid,jsonb) from public;
grant execute on function private.apply_status_change_event(uuid,jsonb) to service_role;
