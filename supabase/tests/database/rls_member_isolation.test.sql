-- Every product table: anon sees nothing, a member sees and changes only their accounts' rows, a non-member
-- sees none of them, service_role sees everything. Impersonation as PostgREST does it (tests.authenticate_as).
begin;
select plan(78);

-- Two accounts, each with one member, and one row per table in each.
select tests.create_user('alice@example.com') as alice \gset
select tests.create_user('bob@example.com') as bob \gset
select tests.create_account('Alice agency', :'alice') as acc_a \gset
select tests.create_account('Bob agency', :'bob') as acc_b \gset

do $$
declare
  a uuid := (select id from public.user_accounts where name = 'Alice agency');
  b uuid := (select id from public.user_accounts where name = 'Bob agency');
  acc uuid;
  dir uuid;
  cre uuid;
  lead bigint;
begin
  foreach acc in array array[a, b] loop
    insert into public.directions (user_account_id, name) values (acc, 'dir') returning id into dir;
    insert into public.creatives (user_account_id, direction_id, name) values (acc, dir, 'cre') returning id into cre;
    insert into public.leads (user_account_id, creative_id, direction_id, phone)
      values (acc, cre, dir, '+7 900 000-00-01') returning id into lead;
    insert into public.purchases (user_account_id, client_phone, amount) values (acc, '89000000001', 100);
    insert into public.sales (user_account_id, client_phone, amocrm_deal_id, amount, status)
      values (acc, '89000000001', 1, 100, 'paid');
    insert into public.amocrm_pipeline_stages (user_account_id, pipeline_id, pipeline_name, status_id, status_name, sort_order)
      values (acc, 1, 'Main', 10, 'New', 10);
    insert into public.amocrm_lead_status_history (user_account_id, lead_id, amocrm_lead_id, to_status_id)
      values (acc, lead, 1, 10);
    insert into public.amocrm_deals (user_account_id, amocrm_lead_id, lead_id, status_id) values (acc, 1, lead, 10);
  end loop;
end $$;

-- Runs the read cases for one table and returns their TAP lines.
create function pg_temp.read_cases(tbl text, alice uuid, bob uuid, acc_a uuid) returns setof text
language plpgsql as $$
declare
  q text := format('select count(*) from public.%I', tbl);
  q_a text := format('select count(*) from public.%I where user_account_id = %L', tbl, acc_a);
  n bigint;
begin
  perform tests.authenticate_as_anon();
  return next throws_ok(q, '42501', null, tbl || ': anon cannot read');
  perform tests.clear_authentication();

  perform tests.authenticate_as(alice);
  execute q into n;
  return next is(n, 1::bigint, tbl || ': a member sees exactly their account''s row');
  perform tests.clear_authentication();

  perform tests.authenticate_as(bob);
  execute q_a into n;
  return next is(n, 0::bigint, tbl || ': a non-member sees none of another account''s rows');
  perform tests.clear_authentication();

  perform tests.authenticate_as_service_role();
  execute q into n;
  return next is(n, 2::bigint, tbl || ': service_role sees every row');
  perform tests.clear_authentication();
end $$;

-- Write cases (README "Security"): the product's service side writes these tables, so a member inserts, updates
-- and deletes nothing — except renaming a direction or creative of their own account.
create function pg_temp.write_cases(tbl text, alice uuid, acc_a uuid, acc_b uuid) returns setof text
language plpgsql as $$
begin
  perform tests.authenticate_as(alice);
  return next throws_ok(
    format('insert into public.%I (user_account_id) values (%L)', tbl, acc_b), '42501', null,
    tbl || ': a member cannot insert into another account');
  return next throws_ok(
    format('insert into public.%I (user_account_id) values (%L)', tbl, acc_a), '42501', null,
    tbl || ': a member cannot insert into their own account either');
  return next throws_ok(
    format('update public.%I set updated_at = now() where user_account_id = %L', tbl, acc_a), '42501', null,
    tbl || ': a member cannot update a row''s data');
  return next throws_ok(
    format('delete from public.%I where user_account_id = %L', tbl, acc_a), '42501', null,
    tbl || ': a member cannot delete');
  perform tests.clear_authentication();
end $$;

create function pg_temp.rename_cases(tbl text, alice uuid, acc_a uuid, acc_b uuid) returns setof text
language plpgsql as $$
declare
  n bigint;
begin
  perform tests.authenticate_as(alice);
  return next results_eq(
    format('update public.%I set name = %L where user_account_id = %L returning name', tbl, 'renamed', acc_a),
    $v$values ('renamed'::text)$v$, tbl || ': a member can rename their account''s row');
  return next is_empty(
    format('update public.%I set name = %L where user_account_id = %L returning name', tbl, 'renamed', acc_b),
    tbl || ': a member''s rename never reaches another account');
  -- Without WHERE or RETURNING only the UPDATE policy filters the rows.
  return next lives_ok(format('update public.%I set name = %L', tbl, 'renamed'),
    tbl || ': a member''s unfiltered rename touches only their own rows');
  perform tests.clear_authentication();
  -- The zeros above mean "filtered", not "nothing there": the other account's row exists, before and after.
  execute format('select count(*) from public.%I where user_account_id = %L', tbl, acc_b) into n;
  return next is(n, 1::bigint, tbl || ': the other account''s row is still there after the member''s writes');
end $$;

select pg_temp.read_cases(t, :'alice', :'bob', :'acc_a')
from unnest(array['directions', 'creatives', 'leads', 'purchases', 'sales',
                  'amocrm_pipeline_stages', 'amocrm_lead_status_history', 'amocrm_deals']) t;

select pg_temp.write_cases(t, :'alice', :'acc_a', :'acc_b')
from unnest(array['directions', 'creatives', 'leads', 'purchases', 'sales']) t;

select pg_temp.rename_cases(t, :'alice', :'acc_a', :'acc_b')
from unnest(array['directions', 'creatives']) t;
select is((select count(*) from public.directions where user_account_id = :'acc_b' and name = 'renamed')
  + (select count(*) from public.creatives where user_account_id = :'acc_b' and name = 'renamed'), 0::bigint,
  'another account''s directions and creatives keep their names');

-- user_accounts and memberships.
select tests.authenticate_as(:'alice');
select results_eq('select name from public.user_accounts', $$values ('Alice agency')$$,
  'a member sees only the accounts they belong to');
select is((select count(*) from public.user_account_members), 1::bigint, 'a member sees only their accounts'' memberships');
select throws_ok(format('insert into public.user_account_members (user_account_id, user_id) values (%L, %L)',
  :'acc_b', :'alice'), '42501', null, 'a user cannot add themselves to another account');
select throws_ok(format('insert into public.user_accounts (name) values (%L)', 'mine'), '42501', null,
  'accounts are created by the service, not by users');
select tests.clear_authentication();

select tests.authenticate_as_anon();
select throws_ok('select count(*) from public.user_accounts', '42501', null, 'anon cannot read user accounts');
select throws_ok('select count(*) from public.user_account_members', '42501', null, 'anon cannot read memberships');
select tests.clear_authentication();

-- Pipeline stages: a member may flip only the qualified flag, only on their account.
select tests.authenticate_as(:'alice');
select results_eq(
  'update public.amocrm_pipeline_stages set is_qualified_stage = true returning user_account_id, status_id, is_qualified_stage',
  format('values (%L::uuid, 10, true)', :'acc_a'),
  'a member can flag a qualified stage: the update reaches exactly their account''s stage');
-- Without WHERE or RETURNING only the UPDATE policy filters the rows (the SELECT policy does not apply): the
-- unfiltered flag change must still reach only the member's stage, not fail on another account's.
select lives_ok('update public.amocrm_pipeline_stages set is_qualified_stage = true',
  'a member''s unfiltered flag change touches only their own stages');
select throws_ok('update public.amocrm_pipeline_stages set status_name = ''x''', '42501', null,
  'a member cannot rename a synced stage');
select throws_ok('insert into public.amocrm_lead_status_history (user_account_id) values (''' || :'acc_a' || ''')',
  '42501', null, 'status history is written by the integration only');
select tests.clear_authentication();
select is((select is_qualified_stage from public.amocrm_pipeline_stages where user_account_id = :'acc_a'),
  true, 'the flag is stored on the member''s stage');
select is((select is_qualified_stage from public.amocrm_pipeline_stages where user_account_id = :'acc_b'),
  false, 'the flag change did not reach another account (its stage is there, still unflagged)');

-- Integration internals are not reachable by users at all.
select tests.authenticate_as(:'alice');
select throws_ok('select count(*) from amocrm.connections', '42501', null, 'a member cannot read connections (tokens)');
select throws_ok('select count(*) from amocrm.webhook_inbox', '42501', null, 'a member cannot read the webhook inbox');
select throws_ok('select count(*) from amocrm.jobs', '42501', null, 'a member cannot read the job queue');
select tests.clear_authentication();
select tests.authenticate_as_anon();
select throws_ok('select count(*) from amocrm.connections', '42501', null, 'anon cannot read connections');
select tests.clear_authentication();
select tests.authenticate_as_service_role();
select lives_ok('select count(*) from amocrm.connections', 'service_role reads connections');
select tests.clear_authentication();

select * from finish();
rollback;
