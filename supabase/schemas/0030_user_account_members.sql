-- Who may see a user account's data: a membership table linking auth.users to user_accounts
-- (a user may belong to several accounts), and the helper every RLS policy uses.
create table public.user_account_members (
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'member' check (role in ('owner', 'admin', 'member')),
  created_at timestamptz not null default now(),
  primary key (user_account_id, user_id)
);

create index user_account_members_user_id_idx on public.user_account_members (user_id);

-- Security definer so policies on other tables can read memberships without recursing into this
-- table's own RLS; it only ever answers for the calling user.
create or replace function private.my_user_account_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select m.user_account_id from public.user_account_members m where m.user_id = (select auth.uid())
$$;
comment on function private.my_user_account_ids() is
  'User accounts the signed-in user (auth.uid()) belongs to; used by every RLS policy.';
revoke all on function private.my_user_account_ids() from public;
grant execute on function private.my_user_account_ids() to authenticated;
grant execute on function private.my_user_account_ids() to service_role;

-- Whether the session itself is the service (service_role through PostgREST, or postgres: migrations, pg_cron,
-- the SQL editor, the functions' direct connection). Inside a security-definer function current_user is always
-- the owner, and the JWT's role claim is request data, so neither can tell; the session's role can: PostgREST
-- sets it with SET ROLE (current_setting('role'); 'none' = the login role itself), which only members of a role
-- may do.
create or replace function private.caller_is_service()
returns boolean
language sql
stable
set search_path = ''
as $$
  select coalesce(nullif(pg_catalog.current_setting('role'), 'none'), session_user::text)
    in ('service_role', 'postgres', 'supabase_admin')
$$;
comment on function private.caller_is_service() is
  'True when the session runs as service_role or postgres (SET ROLE / login role), never from a JWT claim.';
revoke all on function private.caller_is_service() from public;
grant execute on function private.caller_is_service() to service_role;
