-- Hand-written: default privileges, which a schema diff does not carry (supabase/schemas/0000_* declares the
-- same). Per-schema default privileges can only add to the global ones, so the earlier per-schema "revoke
-- execute … from public" did nothing (pg_default_acl stayed empty). PUBLIC's execute right on functions
-- created from now on by postgres (which owns our objects) is revoked globally: every function grants the
-- roles that call it. Consequence: a function or extension postgres creates later in any schema must grant
-- execute explicitly (hosted Supabase's own per-schema grants to anon/authenticated/service_role in public are
-- left as they are). Nothing destructive: existing objects keep their privileges.
alter default privileges for role postgres revoke execute on functions from public;
