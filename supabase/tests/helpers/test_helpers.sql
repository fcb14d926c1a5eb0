-- Helpers for the pgTAP suites; loaded by the test command into the throwaway test database only.
-- They impersonate callers exactly as PostgREST does: a role plus request.jwt.claims, transaction-local.
create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

-- pgTAP is installed after the migrations, whose default privileges keep PUBLIC from executing functions created
-- later (see *_default_privileges.sql): its assertions are called by the impersonated roles, so grant them.
do $$
declare
  f regprocedure;
begin
  for f in
    select d.objid::regprocedure from pg_depend d
    where d.classid = 'pg_proc'::regclass and d.deptype = 'e'
      and d.refobjid = (select e.oid from pg_extension e where e.extname = 'pgtap')
  loop
    execute format('grant execute on function %s to anon, authenticated, service_role', f);
  end loop;
end $$;

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

-- A tenant with data everywhere a member can look: a direction, a creative, three leads (one qualified, one with
-- a paid sale of 3,000), spend of 1,234.57 RUB, a product purchase, a deal, status history, stages and a
-- connection. Written as the session user (the integration's side), never through RLS.
create or replace function tests.seed_tenant(p_user_account_id uuid, p_subdomain text)
returns void language plpgsql volatile set search_path = '' as $$
declare
  v_dir uuid;
  v_cre uuid;
  v_lead bigint;
begin
  perform tests.seed_pipelines(p_user_account_id);
  insert into public.directions (user_account_id, name) values (p_user_account_id, 'dir ' || p_subdomain)
    returning id into v_dir;
  insert into public.creatives (user_account_id, direction_id, name) values (p_user_account_id, v_dir, 'cre ' || p_subdomain)
    returning id into v_cre;
  insert into public.leads (user_account_id, creative_id, direction_id, phone, created_at)
    values (p_user_account_id, v_cre, v_dir, '+7 900 111-00-01', '2026-11-02'),
           (p_user_account_id, v_cre, v_dir, '+7 900 111-00-02', '2026-11-03');
  insert into public.leads (user_account_id, creative_id, direction_id, phone, created_at, amocrm_lead_id)
    values (p_user_account_id, v_cre, v_dir, '+7 900 111-00-03', '2026-11-04', 9001) returning id into v_lead;
  insert into public.amocrm_deals (user_account_id, amocrm_lead_id, lead_id, pipeline_id, status_id, price)
    values (p_user_account_id, 9001, v_lead, 100, 142, 3000);
  insert into public.sales (user_account_id, lead_id, amocrm_deal_id, amount, status, closed_at)
    values (p_user_account_id, v_lead, 9001, 3000, 'paid', '2026-11-05');
  insert into public.purchases (user_account_id, client_phone, amount, purchase_date)
    values (p_user_account_id, '+7 900 111-00-01', 500, '2026-11-10');
  insert into public.ad_spend_daily (user_account_id, creative_id, spend_date, amount, currency)
    values (p_user_account_id, v_cre, '2026-11-02', 1234.57, 'RUB');
  insert into public.amocrm_lead_status_history (user_account_id, lead_id, amocrm_lead_id, to_pipeline_id, to_status_id)
    values (p_user_account_id, v_lead, 9001, 100, 142);
  -- Revenue is in the amoCRM account's currency; ROI needs it known.
  insert into amocrm.connections (user_account_id, subdomain, state, account_currency)
  values (p_user_account_id, p_subdomain, 'active', 'RUB');
end $$;

-- Everything stored about an account, as one hash per relation: every table with a user_account_id column
-- (found in the catalog, so a new table is covered the day it is added), the account row itself, and what the
-- dashboard shows (creative and direction funnels, the revenue totals, the connection status). Read as the
-- session user. Two equal fingerprints mean the account is byte-identical.
create or replace function tests.account_fingerprint(p_user_account_id uuid)
returns table (relation text, digest text) language plpgsql volatile set search_path = '' as $$
declare
  r record;
begin
  for r in
    select c.oid::regclass::text as rel
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and n.nspname in ('public', 'private', 'amocrm')
      and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'user_account_id' and not a.attisdropped)
    order by 1
  loop
    relation := r.rel;
    execute format('select md5(coalesce(string_agg(t::text, %L order by t::text), %L)) from %s t where t.user_account_id = %L',
      E'\n', '', r.rel, p_user_account_id) into digest;
    return next;
  end loop;
  relation := 'public.user_accounts';
  select md5(a::text) into digest from public.user_accounts a where a.id = p_user_account_id;
  return next;
  relation := 'creative_funnel(all time)';
  select md5(coalesce(string_agg(f::text, E'\n' order by f::text), '')) into digest
    from public.creative_funnel(p_user_account_id) f;
  return next;
  relation := 'creative_funnel(2026-11)';
  select md5(coalesce(string_agg(f::text, E'\n' order by f::text), '')) into digest
    from public.creative_funnel(p_user_account_id, '2026-11-01', '2026-11-30') f;
  return next;
  relation := 'direction_funnel(all time)';
  select md5(coalesce(string_agg(f::text, E'\n' order by f::text), '')) into digest
    from public.direction_funnel(p_user_account_id) f;
  return next;
  relation := 'account_revenue_totals';
  select md5(coalesce(string_agg(t::text, E'\n' order by t::text), '')) into digest
    from public.account_revenue_totals t where t.user_account_id = p_user_account_id;
  return next;
  relation := 'amocrm_connection_status';
  select md5(coalesce(string_agg(t::text, E'\n' order by t::text), '')) into digest
    from public.amocrm_connection_status t where t.user_account_id = p_user_account_id;
  return next;
end $$;

grant execute on all functions in schema tests to anon, authenticated, service_role;
