-- Invariants over our schemas that every migration must keep: RLS everywhere, fixed search_path on every
-- function, security_invoker views, indexed foreign keys, no security-definer function callable by anon.
begin;
select plan(5);

select is_empty(
  $$select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and n.nspname in ('public', 'amocrm', 'private') and not c.relrowsecurity$$,
  'every table in public, amocrm and private has row level security enabled'
);

select is_empty(
  $$select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ('public', 'amocrm', 'private')
      and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')$$,
  'every function in our schemas has a fixed search_path'
);

select is_empty(
  $$select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind = 'v' and n.nspname = 'public'
      and not coalesce(c.reloptions @> array['security_invoker=true'], false)$$,
  'every view in public is security_invoker'
);

select is_empty(
  $$select con.conrelid::regclass::text || ' (' || con.conname || ')'
    from pg_constraint con join pg_namespace n on n.oid = con.connamespace
    where con.contype = 'f' and n.nspname in ('public', 'amocrm', 'private')
      and not exists (
        select 1 from pg_index i
        where i.indrelid = con.conrelid
          and (i.indkey::int2[])[0:array_length(con.conkey, 1) - 1] @> con.conkey
          and (i.indkey::int2[])[0:array_length(con.conkey, 1) - 1] <@ con.conkey)$$,
  'every foreign key has an index starting with its columns'
);

select is_empty(
  $$select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where p.prosecdef and n.nspname in ('public', 'amocrm', 'private')
      and has_function_privilege('anon', p.oid, 'execute')$$,
  'no security-definer function is executable by anon'
);

select * from finish();
rollback;
