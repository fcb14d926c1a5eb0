-- Helpers for the pgTAP suites; loaded by the test command into the throwaway test database only.
-- They impersonate callers exactly as PostgREST does: a role plus request.jwt.claims, transaction-local.
create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

create or replace function tests.create_user(p_email text)
returns uuid language sql volatile set search_path = '' as $$
  insert into auth.users (email) values (p_email) returning id
$$;

create or replace function tests.create_account(p_name text, p_member uuid default null)
returns uuid language plpgsql volatile set search_path = '' as $$
declare
  v_id uuid;
begin
  insert into public.user_accounts (name) values (p_name) returning id into v_id;
  if p_member is not null then
    insert into public.user_account_members (user_account_id, user_id) values (v_id, p_member);
  end if;
  return v_id;
end $$;

create or replace function tests.authenticate_as(p_user_id uuid)
returns void language plpgsql volatile set search_path = '' as $$
begin
  perform set_config('role', 'authenticated', true);
  perform set_config('request.jwt.claims',
    json_build_object('sub', p_user_id, 'role', 'authenticated', 'aud', 'authenticated')::text, true);
end $$;

create or replace function tests.authenticate_as_anon()
returns void language plpgsql volatile set search_path = '' as $$
begin
  perform set_config('role', 'anon', true);
  perform set_config('request.jwt.claims', '{"role":"anon"}', true);
end $$;

create or replace function tests.authenticate_as_service_role()
returns void language plpgsql volatile set search_path = '' as $$
begin
  perform set_config('role', 'service_role', true);
  perform set_config('request.jwt.claims', '{"role":"service_role"}', true);
end $$;

create or replace function tests.clear_authentication()
returns void language plpgsql volatile set search_path = '' as $$
begin
  -- RESET ROLE returns to the session user (postgres), which any current role may do.
  reset role;
  perform set_config('request.jwt.claims', '', true);
end $$;

grant execute on all functions in schema tests to anon, authenticated, service_role;

-- A webhook lead event as the intake function hands it to SQL (every payload value is a string).
create or replace function tests.lead_event(
  p_action text, p_id bigint, p_ts bigint, p_status integer, p_pipeline integer,
  p_price numeric default 0, p_old_status integer default null
)
returns jsonb language sql immutable set search_path = '' as $$
  select jsonb_build_object(
    'entity', 'lead', 'action', p_action, 'amocrm_id', p_id, 'amocrm_ts', p_ts,
    'payload', jsonb_strip_nulls(jsonb_build_object(
      'id', p_id::text, 'status_id', p_status::text, 'pipeline_id', p_pipeline::text, 'price', p_price::text,
      'old_status_id', p_old_status::text, 'updated_at', p_ts::text, 'last_modified', p_ts::text,
      'created_at', '1700000000', 'name', 'Deal ' || p_id)))
$$;

-- Store and apply a batch of events for an account, as one webhook POST would.
create or replace function tests.deliver(p_user_account_id uuid, p_events jsonb)
returns bigint language plpgsql volatile set search_path = '' as $$
declare
  v_inbox bigint;
begin
  select inbox_id into v_inbox from private.receive_webhook(p_user_account_id, 'application/x-www-form-urlencoded',
    'test', p_events);
  perform private.apply_webhook_events(v_inbox);
  return v_inbox;
end $$;

-- Pipeline 100: New(10) → Talk(20) → Meeting(30, qualified) → Contract(40); pipeline 200: Start(210) → Done(220).
create or replace function tests.seed_pipelines(p_user_account_id uuid)
returns void language sql volatile set search_path = '' as $$
  insert into public.amocrm_pipeline_stages
    (user_account_id, pipeline_id, pipeline_name, status_id, status_name, sort_order, is_qualified_stage)
  values
    (p_user_account_id, 100, 'Sales', 10, 'New', 10, false),
    (p_user_account_id, 100, 'Sales', 20, 'Talk', 20, false),
    (p_user_account_id, 100, 'Sales', 30, 'Meeting', 30, true),
    (p_user_account_id, 100, 'Sales', 40, 'Contract', 40, false),
    (p_user_account_id, 100, 'Sales', 142, 'Won', 10000, false),
    (p_user_account_id, 100, 'Sales', 143, 'Lost', 11000, false),
    (p_user_account_id, 200, 'Upsell', 210, 'Start', 10, false),
    (p_user_account_id, 200, 'Upsell', 220, 'Done', 20, false),
    (p_user_account_id, 200, 'Upsell', 142, 'Won', 10000, false),
    (p_user_account_id, 200, 'Upsell', 143, 'Lost', 11000, false)
$$;

-- A deal's observable state, for comparing runs: stage, price, flags, sale and its history.
create or replace function tests.deal_fingerprint(p_user_account_id uuid, p_amocrm_lead_id bigint)
returns text language sql stable set search_path = '' as $$
  select concat_ws(' | ',
    (select concat_ws(',', d.pipeline_id, d.status_id, d.price, d.is_deleted, d.is_qualified)
     from public.amocrm_deals d where d.user_account_id = p_user_account_id and d.amocrm_lead_id = p_amocrm_lead_id),
    (select string_agg(concat_ws('>', h.from_pipeline_id, h.from_status_id, h.to_pipeline_id, h.to_status_id,
       extract(epoch from h.changed_at)::bigint), ';' order by h.changed_at, h.to_status_id)
     from public.amocrm_lead_status_history h
     where h.user_account_id = p_user_account_id and h.amocrm_lead_id = p_amocrm_lead_id))
$$;

grant execute on all functions in schema tests to anon, authenticated, service_role;
