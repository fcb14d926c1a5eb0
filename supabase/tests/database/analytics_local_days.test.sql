-- Analytics days are local days of the account's zone (the amoCRM account's unless the user account chose one);
-- spend days stay the ad platform's reporting days; changing the zone rebuilds the rollups.
-- The case: a lead created at 00:30 Moscow time on 1 Dec (21:30 UTC on 30 Nov), 1,000 RUB of spend on 1 Dec.
begin;
select plan(9);

select tests.create_user('days-alice@example.com') as alice \gset
select tests.create_account('Moscow clinic', :'alice') as acc \gset
insert into amocrm.connections (user_account_id, subdomain, account_currency, account_timezone)
values (:'acc', 'moscowclinic', 'RUB', 'Europe/Moscow');
insert into public.creatives (user_account_id, name) values (:'acc', 'Night reel') returning id as c1 \gset
insert into public.leads (user_account_id, creative_id, phone, is_qualified, created_at)
values (:'acc', :'c1', '+79000000101', true, '2026-11-30 21:30+00') returning id as l1 \gset
insert into public.ad_spend_daily (user_account_id, creative_id, spend_date, amount, currency)
values (:'acc', :'c1', '2026-12-01', 1000, 'RUB');

select tests.authenticate_as(:'alice');
select results_eq(format('select day, leads, spend, cpl from public.funnel_daily(%L, %L, %L)', :'acc', '2026-11-30', '2026-12-01'),
  $$values ('2026-11-30'::date, 0::bigint, 0::numeric, null::numeric), ('2026-12-01'::date, 1::bigint, 1000.00::numeric, 1000.00::numeric)$$,
  'the lead counts on its Moscow day (1 Dec) next to that day''s spend: 1 lead, 1,000 spend, cpl 1,000');
select results_eq(format('select leads, qualified_leads, spend, cpl, cpql from public.creative_funnel(%L, %L, %L)', :'acc', '2026-12-01', '2026-12-01'),
  $$values (1::bigint, 1::bigint, 1000.00::numeric, 1000.00::numeric, 1000.00::numeric)$$,
  'creative_funnel for 1 Dec has the lead and the spend');
select is_empty(format('select 1 from public.creative_funnel(%L, %L, %L)', :'acc', '2026-11-30', '2026-11-30'),
  'nothing counts on 30 Nov');

-- The user account picks another zone: UTC. The rollup is rebuilt: the lead is on 30 Nov (UTC), spend stays.
update public.user_accounts set analytics_timezone = 'UTC' where id = :'acc' returning analytics_timezone;
select results_eq(format('select day, leads, spend from public.funnel_daily(%L, %L, %L)', :'acc', '2026-11-30', '2026-12-01'),
  $$values ('2026-11-30'::date, 1::bigint, 0::numeric), ('2026-12-01'::date, 0::bigint, 1000.00::numeric)$$,
  'after switching the account to UTC the lead counts on 30 Nov; spend keeps its reporting day');
select tests.clear_authentication();

select results_eq(format('select day, leads::bigint from private.analytics_lead_daily where user_account_id = %L and leads > 0', :'acc'),
  format('select day, leads from private.analytics_expected_rollup(%L)', :'acc'),
  'the rebuilt rollup equals the from-scratch one');

-- Back to following amoCRM (null), then amoCRM's zone changes (a pipeline sync reads Asia/Almaty: 02:30 on 1 Dec).
update public.user_accounts set analytics_timezone = null where id = :'acc';
select private.record_amocrm_account_settings(:'acc', 'KZT', '₸', 'Asia/Almaty');
select results_eq(format('select day, leads from private.analytics_lead_daily where user_account_id = %L and leads > 0', :'acc'),
  $$values ('2026-12-01'::date, 1)$$, 'a new amoCRM zone rebuilds an account that follows it');

-- A lead moved later in the day stays in its local day; one at 23:59 UTC on 1 Dec is on 2 Dec in Almaty.
update public.leads set created_at = '2026-12-01 23:59+00' where id = :l1;
select results_eq(format('select day, leads from private.analytics_lead_daily where user_account_id = %L and leads > 0', :'acc'),
  $$values ('2026-12-02'::date, 1)$$, 'the lead trigger books by the local day too');

select throws_ok(format('update public.user_accounts set analytics_timezone = %L where id = %L', 'UTC+3', :'acc'),
  '23514', null, 'a POSIX offset string is not accepted as a zone');
select throws_ok(format('update public.user_accounts set analytics_timezone = %L where id = %L', 'Mars/Olympus', :'acc'),
  '23514', null, 'an unknown zone is refused');

select * from finish();
rollback;
