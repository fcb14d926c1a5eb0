-- Hand-written: default privileges, which a schema diff does not carry (supabase/schemas/0000_* declares the
-- same). Per-schema default privileges can only add to the global ones, so the earlier per-schema "revoke
-- execute … from public" did nothing (pg_default_acl stayed empty): PUBLIC's execute right on new functions is
-- revoked globally for postgres, which owns our objects. On hosted Supabase, new objects in public are also
-- granted to anon and authenticated by default; that is undone here, so every grant is explicit.
-- Nothing destructive: objects that exist keep their privileges (the schema migration sets them explicitly).
alter default privileges for role postgres revoke execute on functions from public;

alter default privileges for role postgres in schema public revoke execute on functions from anon, authenticated;

alter default privileges for role postgres in schema public revoke all on tables from anon, authenticated;

alter default privileges for role postgres in schema public revoke all on sequences from anon, authenticated;
