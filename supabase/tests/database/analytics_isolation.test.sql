-- Isolation of everything analytics adds: the ad_spend_daily table, the rollup, the views and the RPCs.
-- A member sees only their accounts' numbers, a non-member sees none of them, anon gets permission denied,
-- service_role sees every account. Impersonation as PostgREST does it (tests.authenticate_as).
begin;
select plan(71);

select tests.create_user('iso-alice@example.com') as alice \gset
select tests.create_user('iso-bob@example.com') as bob \gset
select tests.create_account('Iso Alice agency', :'alice') as acc_a \gset
select tests.create_account('Iso Bob agency', :'bob') as acc_b \gset

do $$
declare
  acc uuid;
  dir uuid;
  cre uuid;
  lead bigint;
begin
  foreach acc in array array[
    (select id from public.user_accounts where name = 'Iso Alice agency'),
    (select id from public.user_accounts where name = 'Iso Bob agency')
  ] loop
    perform tests.seed_pipelines(acc);
    insert into public.directions (user_account_id, name) values (acc, 'dir') returning id into dir;
    insert into public.creatives (user_account_id, direction_id, name) values (acc, dir, 'cre') returning id into cre;
    insert into public.leads (user_account_id, creative_id, direction_id, phone, is_qualified, created_at,
      current_pipeline_id, current_status_id)
    values (acc, cre, dir, '+79002000001', true, '2026-01-05', 100, 20) returning id into lead;
    insert into public.sales (user_account_id, amocrm_deal_id, lead_id, amount, status) values
      (acc, 1, lead, 100, 'paid'), (acc, 2, null, 50, 'paid');
    insert into public.ad_spend_daily (user_account_id, creative_id, spend_date, amount, currency)
      values (acc, cre, '2026-01-05', 10, 'RUB');
    insert into public.amocrm_lead_status_history (user_account_id, lead_id, amocrm_lead_id, to_pipeline_id, to_status_id, changed_at)
      values (acc, lead, 1, 100, 10, '2026-01-05 10:00+00'), (acc, lead, 1, 100, 20, '2026-01-05 12:00+00');
  end loop;
end $$;

select id as cre_b from public.creatives where user_account_id = :'acc_b' \gset

-- Read cases for a relation that has a user_account_id column: anon denied, member sees only their account,
-- non-member sees none of it, service_role sees both accounts.
create function pg_temp.read_cases(rel text, alice uuid, bob uuid, acc_a uuid, acc_b uuid) returns setof text
language plpgsql as $$
declare
  n bigint;
  m bigint;
begin
  perform tests.authenticate_as_anon();
  return next throws_ok(format('select count(*) from %s', rel), '42501', null, rel || ': anon cannot read');
  perform tests.clear_authentication();

  perform tests.authenticate_as(alice);
  execute format('select count(*) filter (where user_account_id = %L), count(*) filter (where user_account_id <> %L) from %s',
    acc_a, acc_a, rel) into n, m;
  return next ok(n > 0 and m = 0, rel || ': a member sees their account''s rows and no other');
  perform tests.clear_authentication();

  perform tests.authenticate_as(bob);
  execute format('select count(*) from %s where user_account_id = %L', rel, acc_a) into n;
  return next is(n, 0::bigint, rel || ': a non-member sees none of another account''s rows');
  perform tests.clear_authentication();

  perform tests.authenticate_as_service_role();
  execute format('select count(distinct user_account_id) from %s where user_account_id in (%L, %L)', rel, acc_a, acc_b) into n;
  return next is(n, 2::bigint, rel || ': service_role sees every account');
  perform tests.clear_authentication();
end $$;

select pg_temp.read_cases(r, :'alice', :'bob', :'acc_a', :'acc_b')
from unnest(array['public.ad_spend_daily', 'private.analytics_lead_daily', 'public.creative_funnel_stats',
  'public.direction_funnel_stats', 'public.account_revenue_totals', 'public.unattributed_revenue',
  'public.pipeline_stage_funnel', 'public.pipeline_stage_durations']) r;

-- RPC cases: anon may not execute; a member gets rows for their account, a non-member none; service_role all.
create function pg_temp.rpc_cases(call text, label text, alice uuid, bob uuid) returns setof text
language plpgsql as $$
declare
  n bigint;
begin
  perform tests.authenticate_as_anon();
  return next throws_ok(format('select count(*) from %s', call), '42501', null, label || ': anon cannot execute');
  perform tests.clear_authentication();

  perform tests.authenticate_as(alice);
  execute format('select count(*) from %s', call) into n;
  return next ok(n > 0, label || ': a member gets their account''s rows');
  perform tests.clear_authentication();

  perform tests.authenticate_as(bob);
  execute format('select count(*) from %s', call) into n;
  return next is(n, 0::bigint, label || ': a non-member gets no rows for another account');
  perform tests.clear_authentication();

  perform tests.authenticate_as_service_role();
  execute format('select count(*) from %s', call) into n;
  return next ok(n > 0, label || ': service_role gets the rows');
  perform tests.clear_authentication();
end $$;

select pg_temp.rpc_cases(c.call, c.label, :'alice', :'bob')
from (values
  (format('public.creative_funnel(%L)', :'acc_a'), 'creative_funnel'),
  (format('public.direction_funnel(%L, %L, %L)', :'acc_a', '2026-01-01', '2026-01-31'), 'direction_funnel'),
  (format('public.funnel_daily(%L, %L, %L)', :'acc_a', '2026-01-01', '2026-01-31'), 'funnel_daily'),
  (format('public.qualification_stats(%L)', :'acc_a'), 'qualification_stats'),
  (format('public.stage_funnel(%L)', :'acc_a'), 'stage_funnel'),
  (format('public.stage_durations(%L)', :'acc_a'), 'stage_durations')
) c (call, label);

-- A member's numbers are their own even when they ask for another account's creatives by id.
select tests.authenticate_as(:'alice');
select is((select sum(leads) from public.creative_funnel_stats), 1::numeric, 'a member''s view totals count only their lead');
select is((select sum(revenue) from public.creative_funnel(:'acc_b')), null::numeric, 'asking for another account''s funnel yields nothing');

-- Writes: the rollup and the internals are read-only for members; spend only into their own account.
select throws_ok(format('insert into private.analytics_lead_daily (user_account_id, day) values (%L, current_date)', :'acc_a'),
  '42501', null, 'a member cannot write the rollup, even for their own account');
select throws_ok('select count(*) from private.analytics_lead_money', '42501', null, 'a member cannot read per-lead money');
select throws_ok('select count(*) from private.analytics_repeat_credits', '42501', null, 'a member cannot read purchase credits');
select throws_ok(format('select private.analytics_rebuild(%L)', :'acc_a'), '42501', null, 'a member cannot run a rebuild');
-- Spend is written by the product's service side only (README "Security"): a member writes none of it.
select throws_ok(format('insert into public.ad_spend_daily (user_account_id, creative_id, spend_date, amount, currency) values (%L, %L, %L, 1, %L)',
    :'acc_b', :'cre_b', '2026-01-06', 'RUB'),
  '42501', null, 'a member cannot book spend into another account');
select throws_ok(format('insert into public.ad_spend_daily (user_account_id, creative_id, spend_date, amount, currency) select %L, id, %L, 5, %L from public.creatives where user_account_id = %L',
    :'acc_a', '2026-01-06', 'RUB', :'acc_a'),
  '42501', null, 'a member cannot book spend in their own account either');
select throws_ok(format('update public.ad_spend_daily set amount = 999 where user_account_id = %L', :'acc_b'),
  '42501', null, 'a member cannot change spend');
select throws_ok(format('delete from public.ad_spend_daily where user_account_id = %L', :'acc_b'),
  '42501', null, 'a member cannot delete spend');
select tests.clear_authentication();

-- The service side cannot cross accounts either: the creative reference is (creative_id, user_account_id).
select tests.authenticate_as_service_role();
select throws_ok(format('insert into public.ad_spend_daily (user_account_id, creative_id, spend_date, amount, currency) values (%L, %L, %L, 1, %L)',
    :'acc_a', :'cre_b', '2026-01-06', 'RUB'),
  '23503', null, 'spend of one account cannot be booked against another account''s creative');
select results_eq(format('insert into public.ad_spend_daily (user_account_id, creative_id, spend_date, amount, currency) select %L, id, %L, 5, %L from public.creatives where user_account_id = %L returning user_account_id, spend_date, amount',
    :'acc_a', '2026-01-06', 'RUB', :'acc_a'),
  format('values (%L::uuid, %L::date, 5.00::numeric)', :'acc_a', '2026-01-06'),
  'the service books spend for an account''s own creative (one row stored)');
select throws_ok(format('insert into public.ad_spend_daily (user_account_id, creative_id, spend_date, amount, currency) select %L, id, %L, 7, %L from public.creatives where user_account_id = %L',
    :'acc_a', '2026-01-06', 'RUB', :'acc_a'),
  '23505', null, 'one row per creative, day and currency');
select tests.clear_authentication();
select is((select amount from public.ad_spend_daily where user_account_id = :'acc_b'), 10.00::numeric(14,2),
  'another account''s spend is unchanged');

select tests.authenticate_as_anon();
select throws_ok('select count(*) from public.ad_spend_daily', '42501', null, 'anon cannot read spend (again, after writes)');
select tests.clear_authentication();

select * from finish();
rollback;
