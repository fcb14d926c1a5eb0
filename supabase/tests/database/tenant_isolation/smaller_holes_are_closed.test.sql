-- Hole 4 of the tenant review, the smaller ones: default privileges that did nothing and private functions
-- executable by PUBLIC; functions trusting the JWT's role claim; members writing what amoCRM owns (a lead's
-- qualification and stage) or deleting leads (which cascaded away history); one pipeline sync request per click
-- becoming one HTTP call per click.
begin;
select plan(11);

select ok(exists (
  select 1 from pg_default_acl d
  where d.defaclobjtype = 'f' and d.defaclnamespace = 0 and d.defaclrole = 'postgres'::regrole
    and not exists (select 1 from aclexplode(d.defaclacl) x where x.grantee = 0)),
  'functions created by postgres are not executable by PUBLIC by default');

create function private.tenant_test_new_function() returns int language sql set search_path = '' as 'select 1';
select ok(not exists (select 1 from pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x
  where p.oid = 'private.tenant_test_new_function()'::regprocedure and x.grantee = 0),
  'a function created from now on is not executable by PUBLIC');

select is_empty($$
  select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname in ('public', 'private', 'amocrm')
    and exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x where x.grantee = 0)$$,
  'no function of ours is executable by PUBLIC');

select is_empty($$
  select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname in ('public', 'private', 'amocrm') and p.prosrc ~ 'auth\.role\(\)'$$,
  'no function decides on the JWT''s role claim (auth.role())');

select tests.create_user('small-alice@example.com') as alice \gset
select tests.create_user('small-eve@example.com') as eve \gset
select tests.create_account('Small A', :'alice') as acc_a \gset
select tests.create_account('Small B') as acc_b \gset
select tests.seed_tenant(:'acc_a', 'small-a');
select min(id) as lead_a from public.leads where user_account_id = :'acc_a' \gset

select tests.authenticate_as(:'eve');
select set_config('request.jwt.claims', json_build_object('sub', :'eve', 'role', 'service_role')::text, true);
select throws_ok(format('select public.request_pipeline_sync(%L)', :'acc_b'), '42501', null,
  'a JWT claiming role service_role does not let a non-member queue another account''s sync');
select tests.clear_authentication();

select tests.authenticate_as(:'alice');
select throws_ok(format('update public.leads set is_qualified = true where id = %s', :'lead_a'), '42501', null,
  'a member cannot set a lead''s qualification (amoCRM decides it)');
select throws_ok(format('update public.leads set current_status_id = 142 where id = %s', :'lead_a'), '42501', null,
  'a member cannot set a lead''s stage');
select throws_ok(format('delete from public.leads where id = %s', :'lead_a'), '42501', null,
  'a member cannot delete a lead (and with it status history they may not delete)');
select tests.clear_authentication();
select is((select count(*) from public.amocrm_lead_status_history where user_account_id = :'acc_a'), 1::bigint,
  'the account''s status history is intact');

-- Ten clicks of "Обновить воронки" while the job waits: one queued job, one call to the worker.
create temp table queue_before as select count(*) as n from net.http_request_queue;
grant select on queue_before to authenticated;
select tests.authenticate_as(:'alice');
select public.request_pipeline_sync(:'acc_a') from generate_series(1, 10);
select tests.clear_authentication();
select is((select count(*) from amocrm.jobs where user_account_id = :'acc_a' and kind = 'sync_pipelines' and state = 'queued'),
  1::bigint, 'ten requests merge into one queued sync job');
select is((select count(*) from net.http_request_queue) - (select n from queue_before), 1::bigint,
  'and the worker is called once, not ten times');

select * from finish();
rollback;
