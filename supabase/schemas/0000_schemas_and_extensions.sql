-- Schemas and extensions everything else relies on.
--   private: helper, trigger and security-definer functions (not exposed by PostgREST)
--   amocrm:  integration internals — connections, tokens, inbox, jobs (not exposed by PostgREST)
-- pg_cron and pg_net are Supabase extensions; on a hosted project these statements enable them.
create extension if not exists pg_cron with schema pg_catalog;

create extension if not exists pg_net with schema extensions;

create schema if not exists private;

create schema if not exists amocrm;

revoke all on schema private from public, anon, authenticated;

revoke all on schema amocrm from public, anon, authenticated;

-- RLS policies call a few private helpers as the signed-in user; only those get execute rights.
grant usage on schema private to authenticated, service_role;

grant usage on schema amocrm to service_role;

-- Functions created from now on are not executable by everyone unless granted explicitly. Per-schema default
-- privileges can only add to the global ones, so PUBLIC's execute right is revoked globally for postgres, which
-- owns our objects. (A schema diff does not carry default privileges: the hand-written migration
-- *_default_privileges.sql does.)
alter default privileges for role postgres revoke execute on functions from public;
