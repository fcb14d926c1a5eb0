-- The catalog-derived attack suite: every relation and every function in our schemas (public, private, amocrm),
-- found in the catalog — so a table, view or function is attacked the day it is added — is attacked by a member
-- of account A, by a signed-in user with no membership and by anon, impersonated as PostgREST does it (and, for
-- references across accounts only, by the service role):
--   select        the whole relation (any row carrying a mark of B is a leak), and filtered on every column by
--                 each of B's ids (user account, directions, creatives, leads, row ids)
--   update        every column of B's rows; every referencing column of A's rows pointed at B's ids
--   insert        a row of B; a row of A with each referencing column pointed at B's ids; explicit identity values
--   delete        B's rows by each of B's ids
--   call          every function, with B's ids for its uuid/bigint arguments
-- Each attempt runs in its own savepoint: a refused one is rolled back, one that succeeds stays, as it would for
-- an attacker. Then no attempt may have reached B, and every row, rollup, funnel and total of B must be
-- byte-identical to before (tests.account_fingerprint).
-- The summary line (NOTICE "attack suite: …") is repeated by `npm test`.
begin;
select plan(7);

select tests.create_user('attack-alice@example.com') as alice \gset
select tests.create_user('attack-bob@example.com') as bob \gset
select tests.create_user('attack-eve@example.com') as eve \gset
select tests.create_account('Attack A', :'alice') as acc_a \gset
select tests.create_account('Attack B', :'bob') as acc_b \gset
select tests.seed_tenant(:'acc_a', 'tenant-a-zz');
select tests.seed_tenant(:'acc_b', 'tenant-b-zz');

create temp table b_before as select * from tests.account_fingerprint(:'acc_b');
create temp table attempts (actor text, kind text, target text, statement text, sqlstate text, rows_hit bigint,
  breach boolean);

-- B's ids, by what they identify. Read as the session user before any impersonation.
create temp table b_ids as
select 'user_account' as kind, :'acc_b'::text as value
union all select 'user', :'bob'
union all select 'direction', id::text from public.directions where user_account_id = :'acc_b'
union all select 'creative', id::text from public.creatives where user_account_id = :'acc_b'
union all select 'lead', id::text from public.leads where user_account_id = :'acc_b';

-- Marks that only B's data carries: its ids (uuids) and the names seeded for it.
create temp table b_marks as
select value as mark from b_ids where kind <> 'lead' union all select 'tenant-b-zz';

create function pg_temp.own_ids_of_b(p_rel regclass) returns text[] language plpgsql stable as $$
declare
  v text[];
begin
  if p_rel = 'public.user_accounts'::regclass then
    return (select array_agg(value) from b_ids where kind = 'user_account');
  end if;
  if exists (select 1 from pg_attribute where attrelid = p_rel and attname = 'user_account_id' and not attisdropped) then
    execute format('select array_agg(id::text) from %s where user_account_id = %L', p_rel,
      (select value from b_ids where kind = 'user_account')) into v;
  end if;
  return v;
end $$;

-- Which of B's ids a column takes: by its foreign key when it has one, else by its name (views have no keys).
create function pg_temp.b_values_for(p_rel regclass, p_col text) returns text[] language sql stable as $$
  select coalesce(
    (select array_agg(b.value) from b_ids b where b.kind = case
      when p_col = 'user_account_id' then 'user_account'
      when p_col = 'user_id' then 'user'
      when exists (select 1 from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any (c.conkey)
                   where c.conrelid = p_rel and c.contype = 'f' and a.attname = p_col and c.confrelid = 'public.leads'::regclass)
        or p_col = 'lead_id' then 'lead'
      when exists (select 1 from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any (c.conkey)
                   where c.conrelid = p_rel and c.contype = 'f' and a.attname = p_col and c.confrelid = 'public.creatives'::regclass)
        or p_col = 'creative_id' then 'creative'
      when exists (select 1 from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any (c.conkey)
                   where c.conrelid = p_rel and c.contype = 'f' and a.attname = p_col and c.confrelid = 'public.directions'::regclass)
        or p_col = 'direction_id' then 'direction'
    end),
    -- A row id: the relation's own rows of B.
    case when p_col = 'id' then pg_temp.own_ids_of_b(p_rel) end)
$$;

create function pg_temp.impersonate(p_actor text) returns void language plpgsql as $$
begin
  perform tests.clear_authentication();
  if p_actor = 'member of A' then
    perform tests.authenticate_as((select id from auth.users where email = 'attack-alice@example.com'));
  elsif p_actor = 'no membership' then
    perform tests.authenticate_as((select id from auth.users where email = 'attack-eve@example.com'));
  elsif p_actor = 'service role' then
    perform tests.authenticate_as_service_role();
  else
    perform tests.authenticate_as_anon();
  end if;
end $$;

-- One attempt, in its own savepoint (rolled back only when it fails). A write that hits rows, or a read that
-- returns a mark of B, is recorded as a breach when p_breach_if_rows says hitting rows is one.
create function pg_temp.try(p_actor text, p_kind text, p_target text, p_sql text, p_breach_if_rows boolean)
returns void language plpgsql as $$
declare
  v_rows bigint := 0;
  v_state text := '00000';
  v_text text;
begin
  begin
    perform pg_temp.impersonate(p_actor);
    if p_kind in ('select', 'call') then
      execute p_sql into v_text;
    elsif p_kind = 'select filtered' then
      execute p_sql into v_rows;
    else
      execute p_sql;
      get diagnostics v_rows = row_count;
    end if;
  exception
    when others then v_state := sqlstate; v_rows := 0;
  end;
  perform tests.clear_authentication();
  if p_kind in ('select', 'call') then
    v_rows := (select count(*) from b_marks m where position(m.mark in coalesce(v_text, '')) > 0);
  end if;
  insert into attempts values (p_actor, p_kind, p_target, p_sql, v_state, v_rows, p_breach_if_rows and v_rows > 0);
end $$;

-- A copied row would collide with its original on a unique key before any reference is checked: give the
-- key's number, date and uuid columns fresh values (not the attacked column, not the account).
create function pg_temp.fresh_unique_values(p_rel regclass, p_except text, p_n int) returns jsonb language sql stable as $$
  select coalesce(jsonb_object_agg(a.attname, case
      when a.atttypid in ('integer'::regtype, 'bigint'::regtype, 'smallint'::regtype) then to_jsonb(900000000 + p_n)
      when a.atttypid = 'date'::regtype then to_jsonb(date '2099-01-01' + p_n)
      when a.atttypid = 'uuid'::regtype then to_jsonb(gen_random_uuid()) end), '{}'::jsonb)
  from pg_attribute a
  where a.attrelid = p_rel and a.attname not in (p_except, 'user_account_id', 'id') and a.attgenerated = ''
    and a.attidentity = ''
    and a.atttypid in ('integer'::regtype, 'bigint'::regtype, 'smallint'::regtype, 'date'::regtype, 'uuid'::regtype)
    and exists (select 1 from pg_index i where i.indrelid = p_rel and i.indisunique and a.attnum = any (i.indkey))
$$;

-- "Point A's rows at B": set the column to B's id, and the other columns of its unique keys to fresh values so
-- that the row does not collide with B's own before the reference is checked.
create function pg_temp.point_at_b(p_rel regclass, p_col text, p_value text, p_filter text, p_n int)
returns text language sql stable as $$
  select format('update %s set (%s) = (select %s from jsonb_populate_record(null::%s, %L)) where %s',
    p_rel, cols, cols, p_rel, jsonb_build_object(p_col, p_value) || fresh, p_filter)
  from (select pg_temp.fresh_unique_values(p_rel, p_col, p_n) as fresh) f,
    lateral (select string_agg(quote_ident(k), ', ') as cols
             from jsonb_object_keys(jsonb_build_object(p_col, p_value) || f.fresh) k) c
$$;

create function pg_temp.attack(p_actor text, p_alice uuid, p_eve uuid, p_a uuid, p_b uuid) returns void
language plpgsql as $$
declare
  r record;
  c record;
  f record;
  v text;
  v_template jsonb;
  v_cols text;
  v_row jsonb;
  v_filter_b text;
  v_filter_a text;
  v_args text[];
  v_call text;
  v_max bigint;
  v_variant int;
  v_fresh jsonb;
  v_n int := 0;
begin
  -- Relations: every table and view of ours.
  for r in
    select cl.oid::regclass as rel, cl.relkind,
      exists (select 1 from pg_attribute a where a.attrelid = cl.oid and a.attname = 'user_account_id' and not a.attisdropped) as scoped
    from pg_class cl join pg_namespace n on n.oid = cl.relnamespace
    where n.nspname in ('public', 'private', 'amocrm') and cl.relkind in ('r', 'p', 'v', 'm')
    order by 1
  loop
    v_filter_b := case when r.scoped then format('user_account_id = %L', p_b)
                       when r.rel = 'public.user_accounts'::regclass then format('id = %L', p_b) else 'true' end;
    v_filter_a := case when r.scoped then format('user_account_id = %L', p_a)
                       when r.rel = 'public.user_accounts'::regclass then format('id = %L', p_a) else 'true' end;
    -- A's row as a template for inserts (read as the session user), without generated columns.
    execute format('select to_jsonb(t) from %s t where %s limit 1', r.rel, v_filter_a) into v_template;
    v_template := coalesce(v_template, '{}'::jsonb);
    select string_agg(quote_ident(a.attname), ', ' order by a.attnum) into v_cols
    from pg_attribute a
    where a.attrelid = r.rel and a.attnum > 0 and not a.attisdropped and a.attgenerated = '' and a.attidentity = ''
      and not (a.attname = 'id' and a.atthasdef);

    if p_actor <> 'service role' then
      perform pg_temp.try(p_actor, 'select', r.rel::text,
        format('select string_agg(t::text, E''\n'') from %s t', r.rel), true);
    end if;

    for c in
      select a.attname::text as col, a.attgenerated <> '' as generated, a.attidentity <> '' as identity
      from pg_attribute a where a.attrelid = r.rel and a.attnum > 0 and not a.attisdropped order by a.attnum
    loop
      -- Every column of B's rows, rewritten with itself.
      if not c.generated and not c.identity and p_actor <> 'service role' then
        perform pg_temp.try(p_actor, 'update', r.rel::text || '.' || c.col,
          format('update %s set %I = %I where %s', r.rel, c.col, c.col, v_filter_b), true);
      end if;
      -- Every column that can hold one of B's ids: read by it, delete by it, point A's rows at it, insert with it.
      foreach v in array coalesce(pg_temp.b_values_for(r.rel, c.col), '{}') loop
        -- The service role may do anything within an account; it is only tried on references across accounts.
        continue when p_actor = 'service role' and c.col in ('id', 'user_account_id', 'user_id');
        if p_actor = 'service role' then
          perform pg_temp.try(p_actor, 'update', r.rel::text || '.' || c.col || ' → B',
            pg_temp.point_at_b(r.rel, c.col, v, v_filter_a, v_n), true);
          v_n := v_n + 1;
          v_row := v_template || pg_temp.fresh_unique_values(r.rel, c.col, v_n) || jsonb_build_object(c.col, v);
          perform pg_temp.try(p_actor, 'insert', r.rel::text || '.' || c.col || ' → B',
            format('insert into %s (%s) select %s from jsonb_populate_record(null::%s, %L)', r.rel, v_cols, v_cols, r.rel, v_row),
            true);
          continue;
        end if;
        perform pg_temp.try(p_actor, 'select filtered', r.rel::text || '.' || c.col,
          format('select count(*) from %s where %I::text = %L', r.rel, c.col, v), true);
        perform pg_temp.try(p_actor, 'delete', r.rel::text || '.' || c.col,
          format('delete from %s where %I::text = %L', r.rel, c.col, v), true);
        if not c.generated and not c.identity and c.col <> 'id' then
          perform pg_temp.try(p_actor, 'update', r.rel::text || '.' || c.col || ' → B',
            pg_temp.point_at_b(r.rel, c.col, v, v_filter_a, v_n), true);
          v_n := v_n + 1;
          v_row := v_template || pg_temp.fresh_unique_values(r.rel, c.col, v_n) || jsonb_build_object(c.col, v);
          perform pg_temp.try(p_actor, 'insert', r.rel::text || '.' || c.col || ' → B',
            format('insert into %s (%s) select %s from jsonb_populate_record(null::%s, %L)', r.rel, v_cols, v_cols, r.rel, v_row),
            true);
        end if;
      end loop;
      -- Explicit identity values just ahead of the sequence (the squatting attack).
      if c.identity and p_actor <> 'service role' then
        execute format('select coalesce(max(%I), 0) from %s', c.col, r.rel) into v_max;
            for i in 1..3 loop
          v_n := v_n + 1;
          v_row := v_template || pg_temp.fresh_unique_values(r.rel, c.col, v_n) || jsonb_build_object(c.col, v_max + i);
          perform pg_temp.try(p_actor, 'insert', r.rel::text || '.' || c.col || ' (explicit identity)',
            format('insert into %s (%s, %s) overriding system value select %s, %s from jsonb_populate_record(null::%s, %L)',
              r.rel, quote_ident(c.col), v_cols, quote_ident(c.col), v_cols, r.rel, v_row), true);
        end loop;
      end if;
    end loop;
    perform tests.clear_authentication();
  end loop;

  if p_actor = 'service role' then
    return;
  end if;
  -- Functions: every one of ours that can be called directly, with B's ids in its arguments.
  for f in
    select p.oid, p.oid::regprocedure::text as sig, p.proretset, p.proargtypes::regtype[] as args,
      n.nspname, p.proname
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ('public', 'private', 'amocrm') and p.prokind = 'f'
      and p.prorettype not in ('trigger'::regtype, 'event_trigger'::regtype)
    order by 2
  loop
    for v_variant in 1..3 loop
      select array_agg(case t
          when 'uuid'::regtype then quote_literal(case
            when v_variant = 1 then p_b::text
            when ord = 1 then p_a::text
            when v_variant = 2 then (select value from b_ids where kind = 'direction' limit 1)
            else (select value from b_ids where kind = 'creative' limit 1) end) || '::uuid'
          when 'bigint'::regtype then (select value from b_ids where kind = 'lead' order by value limit 1) || '::bigint'
          when 'integer'::regtype then '100'
          when 'numeric'::regtype then '1::numeric'
          when 'double precision'::regtype then '1::float8'
          when 'text'::regtype then quote_literal('tenant-b-zz')
          when 'jsonb'::regtype then quote_literal(jsonb_build_array(jsonb_build_object('user_account_id', p_b))) || '::jsonb'
          when 'boolean'::regtype then 'true'
          when 'date'::regtype then 'null::date'
          when 'timestamp with time zone'::regtype then 'now()'
          when 'interval'::regtype then quote_literal('1 second') || '::interval'
          when 'text[]'::regtype then quote_literal('{sync_pipelines}') || '::text[]'
          when 'bigint[]'::regtype then 'array[' || (select value from b_ids where kind = 'lead' order by value limit 1) || ']::bigint[]'
          when 'uuid[]'::regtype then 'array[' || quote_literal(p_b) || '::uuid]'
          else 'null::' || t::text end order by ord)
        into v_args
      from unnest(f.args) with ordinality as a (t, ord);
      -- Variant 1: every uuid is B's account. Variants 2 and 3 (only for functions with more than one uuid):
      -- the account is A's and the other uuids are B's direction / creative.
      continue when v_variant > 1 and (select count(*) from unnest(f.args) t where t = 'uuid'::regtype) < 2;
      v_call := format('%I.%I(%s)', f.nspname, f.proname, array_to_string(coalesce(v_args, '{}'), ', '));
        perform pg_temp.try(p_actor, 'call', f.sig,
        case when f.proretset then format('select string_agg(x::text, E''\n'') from %s x', v_call)
             else format('select (%s)::text', v_call) end, true);
      perform tests.clear_authentication();
    end loop;
  end loop;
end $$;

select pg_temp.attack(actor, :'alice', :'eve', :'acc_a', :'acc_b')
from unnest(array['member of A', 'no membership', 'anon', 'service role']) actor;

select is_empty($$select actor || ': ' || kind || ' ' || target || ' → ' || rows_hit || ' row(s): ' || statement
  from attempts where breach$$,
  'no attempt read a mark of B, or wrote, moved or deleted a row of B');

select is_empty($$select * from b_before except select * from tests.account_fingerprint(
  (select id from public.user_accounts where name = 'Attack B'))$$,
  'every row, rollup, funnel, total and connection status of B is byte-identical to before');

-- The suite covers what the catalog holds: every relation and every callable function was attacked by every actor.
select is_empty($$
  select cl.oid::regclass::text from pg_class cl join pg_namespace n on n.oid = cl.relnamespace
  where n.nspname in ('public', 'private', 'amocrm') and cl.relkind in ('r', 'p', 'v', 'm')
    and (select count(distinct a.actor) from attempts a where a.kind = 'select' and a.target = cl.oid::regclass::text
         and a.actor <> 'service role') < 3
  union all
  select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname in ('public', 'private', 'amocrm') and p.prokind = 'f' and p.prorettype <> 'trigger'::regtype
    and (select count(distinct a.actor) from attempts a where a.kind = 'call' and a.target = p.oid::regprocedure::text
         and a.actor <> 'service role') < 3$$,
  'every relation and function of our schemas was attacked by all three actors');

-- Writes must have been refused for the right reason (privileges or RLS), not by an accident of the test data.
select is_empty($$select actor || ': ' || kind || ' ' || target || ' (' || sqlstate || ')' from attempts
  where kind in ('insert', 'update', 'delete') and sqlstate not in ('42501', '00000', '23503', '0A000', '55000')$$,
  'every refused write was refused by privileges/RLS (42501), a reference check (23503) or because the view cannot be written');

-- Security-definer functions skip RLS, so each one a signed-in user can call must scope itself to the caller's
-- memberships through auth.uid() (directly or via private.my_user_account_ids()).
select is_empty($$
  select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname in ('public', 'private', 'amocrm') and p.prosecdef
    and (has_function_privilege('authenticated', p.oid, 'execute') or has_function_privilege('anon', p.oid, 'execute'))
    and p.prosrc !~ 'auth\.uid\(\)' and p.prosrc !~ 'private\.my_user_account_ids\(\)'$$,
  'every security-definer function callable by authenticated checks membership through auth.uid()');

-- Even the service role, which may write anything, cannot point a row of A at a row of B: every reference of
-- every table it writes is (id, user_account_id).
select is_empty($$select kind || ' ' || target || ' (' || sqlstate || ')' from attempts
  where actor = 'service role' and sqlstate not in ('23503', '42501', '55000')$$,
  'as the service role, every reference pointed at B''s rows was refused by a reference check (23503)');

select ok((select count(*) from attempts) > 1000, 'the suite made its attempts');

do $$
declare
  v text;
begin
  select format('attack suite: %s attempts (%s), %s refused by privileges/RLS, %s by a reference check, '
      '%s by views that cannot be written, %s other errors, %s allowed inside the actor''s own rows; '
      '%s reached account B',
      count(*),
      (select string_agg(format('%s %s', n, actor), ', ' order by actor)
       from (select actor, count(*) as n from attempts group by actor) x),
      count(*) filter (where sqlstate = '42501'), count(*) filter (where sqlstate = '23503'),
      count(*) filter (where sqlstate = '55000'),
      count(*) filter (where sqlstate not in ('42501', '23503', '55000', '00000')),
      count(*) filter (where sqlstate = '00000'),
      count(*) filter (where breach))
    into v from attempts;
  raise notice '%', v;
end $$;

select * from finish();
rollback;
