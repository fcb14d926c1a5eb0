-- Advisor lints on what our migrations create (schemas public, private, amocrm): the Supabase database advisor's
-- security and performance checks, written here as catalog queries so they run in `npm test` without the hosted
-- advisor. ERROR and WARN must be 0; INFO findings are counted and printed (NOTICE "advisor lints: …").
-- One deliberate difference: the advisor warns about every security-definer function `authenticated` may run;
-- here such a function is a finding only when it does not scope itself to the caller through auth.uid()
-- (directly or via private.my_user_account_ids()). Ours that remain — memberships for RLS, the connection
-- status and the pipeline-sync request — need the definer's rights by design and are each attacked by
-- catalog_attack_suite.test.sql.
begin;
select plan(3);

create temp view our_relations as
select c.oid, c.oid::regclass::text as name, n.nspname, c.relkind, c.relrowsecurity
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname in ('public', 'private', 'amocrm');

create temp view our_functions as
select p.oid, p.oid::regprocedure::text as name, n.nspname, p.prosecdef, p.proconfig, p.prosrc, p.prokind
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname in ('public', 'private', 'amocrm');

-- The API roles reach a relation when they hold any privilege on it and usage on its schema.
create temp view api_reachable as
select r.*
from our_relations r
where exists (
  select 1 from unnest(array['anon', 'authenticated']) role_name
  where has_schema_privilege(role_name, r.nspname, 'usage')
    and (has_table_privilege(role_name, r.oid, 'select, insert, update, delete')
      or has_any_column_privilege(role_name, r.oid, 'select, insert, update')));

create temp view our_policies as
select pol.oid, r.name as relation, pol.polname, pol.polpermissive, pol.polcmd, pol.polroles, r.relrowsecurity,
  pg_get_expr(pol.polqual, pol.polrelid) as qual, pg_get_expr(pol.polwithcheck, pol.polrelid) as with_check
from pg_policy pol join our_relations r on r.oid = pol.polrelid;

create temp table findings as
-- ERROR: a table the API can reach without row level security.
select 'rls_disabled_in_public' as lint, 'ERROR' as level, name as object from api_reachable
where relkind in ('r', 'p') and not relrowsecurity
union all
-- ERROR: policies that do nothing because RLS is off.
select 'policy_exists_rls_disabled', 'ERROR', relation || ' / ' || polname from our_policies where not relrowsecurity
union all
-- ERROR: a view that runs as its owner (skips the caller's RLS).
select 'security_definer_view', 'ERROR', name from our_relations
where relkind = 'v' and nspname = 'public'
  and not coalesce((select c.reloptions from pg_class c where c.oid = our_relations.oid) @> array['security_invoker=true'], false)
union all
-- ERROR: a relation the API can reach that reads auth.users.
select 'auth_users_exposed', 'ERROR', r.name from api_reachable r
where r.relkind in ('v', 'm') and exists (
  select 1 from pg_depend d join pg_rewrite w on w.oid = d.objid
  where w.ev_class = r.oid and d.refobjid = 'auth.users'::regclass)
union all
-- ERROR: a policy that trusts user-editable metadata from the JWT.
select 'rls_references_user_metadata', 'ERROR', relation || ' / ' || polname from our_policies
where coalesce(qual, '') || coalesce(with_check, '') ~ 'user_metadata'
union all
-- ERROR: a reachable column named like a secret.
select 'sensitive_columns_exposed', 'ERROR', r.name || '.' || a.attname from api_reachable r
join pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
where a.attname ~* '^(password|passwd|secret|client_secret|api_key|apikey|access_token|refresh_token|private_key|token|jwt)$'
  and (has_column_privilege('anon', r.oid, a.attname, 'select') or has_column_privilege('authenticated', r.oid, a.attname, 'select'))
union all
-- WARN: a security-definer function anon may run.
select 'anon_security_definer_function_executable', 'WARN', name from our_functions
where prosecdef and has_function_privilege('anon', oid, 'execute')
union all
-- WARN (see the header): a security-definer function authenticated may run that does not scope itself.
select 'authenticated_security_definer_function_without_membership_check', 'WARN', name from our_functions
where prosecdef and has_function_privilege('authenticated', oid, 'execute')
  and prosrc !~ 'auth\.uid\(\)' and prosrc !~ 'private\.my_user_account_ids\(\)'
union all
-- WARN: a function whose search_path the caller can change.
select 'function_search_path_mutable', 'WARN', name from our_functions
where prokind in ('f', 'p') and not exists (select 1 from unnest(coalesce(proconfig, '{}')) c where c like 'search_path=%')
union all
-- WARN: auth.<fn>() in a policy evaluated per row instead of once per statement.
select 'auth_rls_initplan', 'WARN', relation || ' / ' || polname from our_policies
where (coalesce(qual, '') ~ 'auth\.(uid|jwt|role|email)\(\)' and lower(coalesce(qual, '')) !~ 'select\s+auth\.(uid|jwt|role|email)\(\)')
   or (coalesce(with_check, '') ~ 'auth\.(uid|jwt|role|email)\(\)' and lower(coalesce(with_check, '')) !~ 'select\s+auth\.(uid|jwt|role|email)\(\)')
union all
-- WARN: several permissive policies for one role and action (each is evaluated for every row).
select 'multiple_permissive_policies', 'WARN', x.relation || ' / ' || x.role_name || ' / ' || x.cmd from (
  select p.relation, r.rolname as role_name, cmd.c as cmd, count(*) as n
  from our_policies p
  cross join lateral unnest(case when p.polcmd = '*' then array['r', 'a', 'w', 'd'] else array[p.polcmd::text] end) cmd (c)
  join pg_roles r on r.oid = any (p.polroles) or p.polroles = '{0}'
  where p.polpermissive
  group by 1, 2, 3) x
where x.n > 1
union all
-- WARN: a policy that lets everyone through.
select 'rls_policy_always_true', 'WARN', relation || ' / ' || polname from our_policies
where polcmd <> 'r' and (trim(coalesce(qual, '')) = 'true' or trim(coalesce(with_check, '')) = 'true')
union all
-- WARN: two indexes with the same definition.
select 'duplicate_index', 'WARN', string_agg(i.indexrelid::regclass::text, ', ') from pg_index i
join our_relations r on r.oid = i.indrelid
group by i.indrelid, i.indkey::text, i.indclass::text, coalesce(pg_get_expr(i.indexprs, i.indrelid), ''),
  coalesce(pg_get_expr(i.indpred, i.indrelid), '')
having count(*) > 1
union all
-- WARN: an extension installed in public (the local stack's stand-ins for hosted Supabase pieces are not ours).
select 'extension_in_public', 'WARN', e.extname from pg_extension e
where e.extnamespace = 'public'::regnamespace and coalesce(obj_description(e.oid, 'pg_extension'), '') !~ 'local stand-in'
union all
-- WARN: a materialized view or a foreign table the API can reach (neither has RLS).
select case relkind when 'm' then 'materialized_view_in_api' else 'foreign_table_in_api' end, 'WARN', name
from api_reachable where relkind in ('m', 'f')
union all
-- INFO: a foreign key without an index starting with its columns.
select 'unindexed_foreign_keys', 'INFO', con.conrelid::regclass::text || ' (' || con.conname || ')'
from pg_constraint con join our_relations r on r.oid = con.conrelid
where con.contype = 'f' and not exists (
  select 1 from pg_index i where i.indrelid = con.conrelid
    and (i.indkey::int2[])[0:array_length(con.conkey, 1) - 1] @> con.conkey
    and (i.indkey::int2[])[0:array_length(con.conkey, 1) - 1] <@ con.conkey)
union all
-- INFO: a table without a primary key.
select 'no_primary_key', 'INFO', name from our_relations r
where relkind in ('r', 'p') and not exists (select 1 from pg_constraint c where c.conrelid = r.oid and c.contype = 'p')
union all
-- INFO: RLS on with no policy (only the service role reaches the table: intended for integration internals).
select 'rls_enabled_no_policy', 'INFO', name from our_relations r
where relkind in ('r', 'p') and relrowsecurity and not exists (select 1 from pg_policy p where p.polrelid = r.oid);

select is_empty($$select lint || ': ' || object from findings where level = 'ERROR'$$, 'advisor lints: no ERROR');
select is_empty($$select lint || ': ' || object from findings where level = 'WARN'$$, 'advisor lints: no WARN');
select ok((select count(*) from findings where level = 'INFO' and lint = 'unindexed_foreign_keys') = 0,
  'every foreign key is indexed');

do $$
begin
  raise notice '%', (select format('advisor lints: %s ERROR, %s WARN, %s INFO (%s)',
    count(*) filter (where level = 'ERROR'), count(*) filter (where level = 'WARN'),
    count(*) filter (where level = 'INFO'),
    coalesce(string_agg(distinct lint || ' ×' || (select count(*) from findings f2 where f2.lint = findings.lint),
      ', ') filter (where level = 'INFO'), 'none')) from findings);
end $$;

select * from finish();
rollback;
