-- The API side of the deal mirror: a deal as the amoCRM REST API returns it (confirmation of money events,
-- reconciliation, backfill) is applied through the same rules as webhooks, then its sale is settled.
-- Sale states (public.sales.status):
--   paid       the deal is won (142) now, confirmed through the API; counts as revenue
--   pending    the deal was won and has been reopened (moved back to an open stage); does not count
--   cancelled  the deal was won and then lost (143) or deleted; does not count
-- A paid sale has exactly one public.purchases row (amocrm_deal_id set) with the same amount and
-- purchase_date = closed_at; when the sale stops being paid, that purchase row is removed.
-- State and amount come only from the API copy (amocrm_deals.api_*), never from webhook state: a webhook
-- claiming "won, 99,999" that the API never confirmed makes no sale. Deletion is the one webhook fact used
-- (ordered by private.observe_deletion), since a deleted deal is exactly what the API can no longer show.
create or replace function private.settle_sale(p_user_account_id uuid, p_amocrm_lead_id bigint)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_deal public.amocrm_deals;
  v_status text;
begin
  select * into v_deal from public.amocrm_deals
  where user_account_id = p_user_account_id and amocrm_lead_id = p_amocrm_lead_id;
  if v_deal is null then
    return 'no_deal';
  end if;
  if v_deal.api_updated_at is null and not v_deal.is_deleted then
    return 'unconfirmed'; -- the API has not returned this deal yet
  end if;

  if v_deal.api_status_id = 142 and not v_deal.is_deleted then
    insert into public.sales as s (
      user_account_id, amocrm_deal_id, amocrm_pipeline_id, amocrm_status_id, amount, client_phone, status,
      lead_id, closed_at, confirmed_at
    ) values (
      p_user_account_id, p_amocrm_lead_id, v_deal.api_pipeline_id, v_deal.api_status_id, coalesce(v_deal.api_price, 0),
      v_deal.contact_phone_e164, 'paid', v_deal.lead_id, v_deal.api_closed_at, now()
    )
    on conflict (user_account_id, amocrm_deal_id) do update set
      amocrm_pipeline_id = excluded.amocrm_pipeline_id,
      amocrm_status_id = excluded.amocrm_status_id,
      amount = excluded.amount,
      client_phone = coalesce(excluded.client_phone, s.client_phone),
      status = 'paid',
      lead_id = excluded.lead_id,
      closed_at = excluded.closed_at,
      confirmed_at = excluded.confirmed_at;

    insert into public.purchases as p (user_account_id, amocrm_deal_id, client_phone, amount, purchase_date)
    values (p_user_account_id, p_amocrm_lead_id, v_deal.contact_phone_e164, coalesce(v_deal.api_price, 0),
      coalesce(v_deal.api_closed_at, v_deal.api_updated_at))
    on conflict (user_account_id, amocrm_deal_id) do update set
      client_phone = coalesce(excluded.client_phone, p.client_phone),
      amount = excluded.amount,
      purchase_date = excluded.purchase_date;
    return 'paid';
  end if;

  v_status := case when v_deal.is_deleted or v_deal.api_status_id = 143 then 'cancelled' else 'pending' end;
  update public.sales set
    status = v_status,
    amocrm_pipeline_id = coalesce(v_deal.api_pipeline_id, amocrm_pipeline_id),
    amocrm_status_id = coalesce(v_deal.api_status_id, amocrm_status_id),
    amount = coalesce(v_deal.api_price, amount),
    confirmed_at = now()
  where user_account_id = p_user_account_id and amocrm_deal_id = p_amocrm_lead_id;
  if not found then
    return 'no_sale';
  end if;
  delete from public.purchases where user_account_id = p_user_account_id and amocrm_deal_id = p_amocrm_lead_id;
  return v_status;
end $$;
comment on function private.settle_sale(uuid, bigint) is
  'Make sales/purchases match the deal as the API last returned it (api_* columns): won → paid sale + one '
  'purchase; reopened → pending; lost/deleted → cancelled (purchase removed); never read from the API → '
  'unconfirmed, nothing written. Idempotent.';
revoke all on function private.settle_sale(uuid,bigint) from public;
grant execute on function private.settle_sale(uuid,bigint) to service_role;

-- How many API reads in a row may come back older than a webhook's state before the sale is settled from the
-- API copy anyway, and how long to wait before each re-read: 5, 15, 45, 135, 405 s (ten minutes in all; the
-- first two within the wait of a draining worker, the rest at the next cron tick).
create or replace function private.max_stale_api_reads()
returns integer
language sql
immutable
set search_path = ''
as $$
  select 5
$$;
comment on function private.max_stale_api_reads() is
  'Re-reads of a deal whose API copy is older than a webhook''s state, before its sale is settled from the API copy.';
revoke all on function private.max_stale_api_reads() from public;
grant execute on function private.max_stale_api_reads() to service_role;

-- p_lead is one element of GET /api/v4/leads (JSON numbers, unix seconds); p_contact_phone the raw PHONE of
-- its main contact, if known. Returns applied | stale | reread (older than a webhook: read again later, sale
-- untouched) | unconfirmed (still older after the last re-read: sale settled from the API copy).
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
  v_price numeric := private.lead_amount(p_lead);
  v_is_deleted boolean := coalesce((p_lead ->> 'is_deleted')::boolean, false);
  -- The documented trash model has no stage; it can only say "deleted".
  v_trash_only boolean := p_lead ->> 'status_id' is null or p_lead ->> 'pipeline_id' is null;
  v_main_contact bigint := (
    select (c ->> 'id')::bigint from jsonb_array_elements(coalesce(p_lead #> '{_embedded,contacts}', '[]')) c
    order by (c ->> 'is_main')::boolean desc nulls last limit 1);
  v_deal public.amocrm_deals;
  v_is_newer boolean := false;
  v_deletion text;
  v_webhook_ahead boolean;
begin
  if v_trash_only and not v_is_deleted then
    raise exception using errcode = '22023',
      message = format('lead %s has no status_id/pipeline_id and is not deleted', v_id);
  end if;
  -- GUARD: lock order (0232): the deal first; the shared rows (rollups, re-read job) when the apply ends.
  perform private.begin_apply();
  perform private.lock_deals(array[p_user_account_id], array[v_id]);
  insert into public.amocrm_deals (user_account_id, amocrm_lead_id) values (p_user_account_id, v_id)
  on conflict do nothing;
  select * into v_deal from public.amocrm_deals
  where user_account_id = p_user_account_id and amocrm_lead_id = v_id for update;

  -- State (stage, price, name, order) only from a snapshot that carries it.
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
      price = v_price,
      responsible_user_id = (p_lead ->> 'responsible_user_id')::bigint,
      amocrm_created_at = to_timestamp((p_lead ->> 'created_at')::bigint),
      amocrm_updated_at = v_updated_at,
      state_tiebreak = '~',
      closed_at = to_timestamp(nullif(p_lead ->> 'closed_at', '')::bigint)
    where user_account_id = p_user_account_id and amocrm_lead_id = v_id;
  elsif v_deal.state_tiebreak <> '~' and v_deal.price = trunc(v_price) and v_deal.price <> v_price then
    -- The newer webhook state holds the legacy integer price of this same amount: keep the kopecks (a
    -- webhook that changes no price enqueues no read, so none would bring them later).
    update public.amocrm_deals set price = v_price
    where user_account_id = p_user_account_id and amocrm_lead_id = v_id;
  end if;
  v_deletion := private.observe_deletion(p_user_account_id, v_id, v_is_deleted, p_read_at);

  -- STEP: the API copy, which alone settles the sale; an older read never replaces a newer one.
  update public.amocrm_deals set
    api_status_id = v_status,
    api_pipeline_id = v_pipeline,
    api_price = v_price,
    api_closed_at = to_timestamp(nullif(p_lead ->> 'closed_at', '')::bigint),
    api_updated_at = v_updated_at
  where user_account_id = p_user_account_id and amocrm_lead_id = v_id
    and (api_updated_at is null or api_updated_at <= v_updated_at);

  -- GUARD: a webhook told of a newer money state (won/lost, or another price of a won deal) than this read
  -- shows. The API may lag its own webhooks, or the webhook was wrong: read again later instead of settling;
  -- after max_stale_api_reads re-reads, settle from what the API returned.
  v_webhook_ahead := not v_is_newer and v_deal.state_tiebreak <> '~' and (
    (v_deal.status_id in (142, 143) or v_status in (142, 143)) and v_deal.status_id is distinct from v_status
    or (v_deal.status_id = 142 or v_status = 142) and trunc(v_deal.price) is distinct from trunc(v_price));
  update public.amocrm_deals set
    stale_api_reads = case when v_webhook_ahead then least(stale_api_reads + 1, private.max_stale_api_reads()) else 0 end
  where user_account_id = p_user_account_id and amocrm_lead_id = v_id;
  if v_webhook_ahead and v_deal.stale_api_reads < private.max_stale_api_reads() then
    perform private.buffer_job('confirm_deals', p_user_account_id, array[v_id],
      'confirm_deals_reread:' || p_user_account_id,
      now() + make_interval(secs => 5 * power(3, v_deal.stale_api_reads)));
    raise log 'amo-roi: deal % of account % read older than a webhook (% of %), re-read queued',
      v_id, p_user_account_id, v_deal.stale_api_reads + 1, private.max_stale_api_reads();
    perform private.link_deal_to_lead(p_user_account_id, v_id);
    perform private.end_apply();
    return 'reread';
  end if;
  if v_webhook_ahead then
    raise log 'amo-roi: deal % of account % still read older than a webhook after % re-reads, settled from the API copy',
      v_id, p_user_account_id, private.max_stale_api_reads();
  end if;

  update public.amocrm_deals set
    main_contact_id = coalesce(v_main_contact, main_contact_id),
    contact_phone_e164 = coalesce(private.normalize_phone(p_contact_phone, private.account_phone_country(p_user_account_id)),
      contact_phone_e164)
  where user_account_id = p_user_account_id and amocrm_lead_id = v_id;

  perform private.link_deal_to_lead(p_user_account_id, v_id);
  perform private.settle_sale(p_user_account_id, v_id);
  perform private.end_apply();
  return case when v_webhook_ahead then 'unconfirmed'
    when v_is_newer or v_deletion = 'changed' then 'applied' else 'stale' end;
end $$;
comment on function private.apply_deal_snapshot(uuid, jsonb, text, text, timestamptz) is
  'Apply a deal as the amoCRM API returns it (state authoritative at equal amoCRM times, deletion as of when the '
  'read began, exact amount from price_with_minor_units), keep it as the API copy, attribute it, settle its sale; '
  'a read older than a webhook''s money state is re-read later (bounded) instead of settled. A trash snapshot '
  'without status_id/pipeline_id (the documented with=only_deleted model) is a deletion observation only. An '
  'apply entry point (0232): the deal locked first, rollups and jobs written when the outermost apply ends.';
revoke all on function private.apply_deal_snapshot(uuid,jsonb,text,text,timestamp with time zone) from public;
grant execute on function private.apply_deal_snapshot(uuid,jsonb,text,text,timestamp with time zone) to service_role;

-- The API answered 204 for a deal we know: it was deleted in amoCRM.
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
declare
  v_outcome text;
begin
  -- GUARD: lock order (0232): the deal first; the rollups when the apply ends.
  perform private.begin_apply();
  perform private.lock_deals(array[p_user_account_id], array[p_amocrm_lead_id]);
  perform private.observe_deletion(p_user_account_id, p_amocrm_lead_id, true, p_read_at);
  v_outcome := private.settle_sale(p_user_account_id, p_amocrm_lead_id);
  perform private.end_apply();
  return v_outcome;
end $$;
comment on function private.mark_deal_missing(uuid, bigint, timestamptz) is
  'A deal the API no longer returned in a read begun at p_read_at is deleted (unless observed alive since); '
  'its sale, if any, is settled.';
revoke all on function private.mark_deal_missing(uuid,bigint,timestamp with time zone) from public;
grant execute on function private.mark_deal_missing(uuid,bigint,timestamp with time zone) to service_role;
