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
