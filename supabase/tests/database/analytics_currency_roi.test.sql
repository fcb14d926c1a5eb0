-- ROI across currencies: revenue is in the amoCRM account's currency (RUB here), spend in the ad platform's
-- (USD). 500 USD of spend against 50,000 RUB of revenue is not ROI 9,900 %: spend is converted with the rate of
-- its day, or the cost metrics are null with the reason in roi_null_reason.
begin;
select plan(10);

select tests.create_user('fx-alice@example.com') as alice \gset
select tests.create_account('Dollar spender', :'alice') as acc \gset
select tests.create_account('Not connected yet', :'alice') as acc_new \gset
insert into amocrm.connections (user_account_id, subdomain, account_currency, account_timezone)
values (:'acc', 'dollarspender', 'RUB', 'Europe/Moscow');
insert into public.directions (user_account_id, name) values (:'acc', 'Loans') returning id as d1 \gset
insert into public.creatives (user_account_id, direction_id, name) values (:'acc', :'d1', 'Dollar ad') returning id as c1 \gset
insert into public.leads (user_account_id, creative_id, direction_id, is_qualified, created_at)
values (:'acc', :'c1', :'d1', true, '2026-11-03 09:00+00') returning id as l1 \gset
insert into public.sales (user_account_id, amocrm_deal_id, lead_id, amount, status, closed_at)
values (:'acc', 501, :l1, 50000, 'paid', '2026-11-05 12:00+00');
insert into public.ad_spend_daily (user_account_id, creative_id, spend_date, amount, currency)
values (:'acc', :'c1', '2026-11-03', 500, 'USD');

select tests.authenticate_as(:'alice');
select results_eq(format('select revenue, spend, spend_currency, cost_currency, cost_spend, cpl, roi, roi_null_reason from public.creative_funnel(%L)', :'acc'),
  $$values (50000.00::numeric, 500.00::numeric, 'USD'::text, 'RUB'::text, null::numeric, null::numeric, null::numeric, 'no USD→RUB rate on or before 2026-11-03'::text)$$,
  'no rate for the spend day: cost metrics are null and the reason says which rate is missing');
select tests.clear_authentication();

-- The service records rates; the latest one on or before the spend day applies (none on the 3rd itself).
insert into public.currency_rates (rate_date, from_currency, to_currency, rate) values
  ('2026-11-01', 'USD', 'RUB', 90), ('2026-11-04', 'USD', 'RUB', 100);
select tests.authenticate_as(:'alice');
select results_eq(format('select revenue, spend, spend_currency, cost_currency, cost_spend, cpl, cpa, roi, roi_null_reason from public.creative_funnel(%L)', :'acc'),
  $$values (50000.00::numeric, 500.00::numeric, 'USD'::text, 'RUB'::text, 45000.00::numeric, 45000.00::numeric, 45000.00::numeric, 11.11::numeric, null::text)$$,
  'all time: 500 USD at 90 (the rate of 1 Nov, the latest before the 3rd) = 45,000 RUB; roi 11.11 %, in RUB');
select results_eq(format('select cost_spend, roi from public.creative_funnel(%L, %L, %L)', :'acc', '2026-11-01', '2026-11-30'),
  $$values (45000.00::numeric, 11.11::numeric)$$, 'the same for a range');
select results_eq(format('select cost_spend, roi, cost_currency from public.direction_funnel(%L)', :'acc'),
  $$values (45000.00::numeric, 11.11::numeric, 'RUB'::text)$$, 'direction_funnel converts the same way');
select results_eq(format('select cost_spend, cpl, cost_currency from public.funnel_daily(%L, %L, %L)', :'acc', '2026-11-03', '2026-11-03'),
  $$values (45000.00::numeric, 45000.00::numeric, 'RUB'::text)$$, 'funnel_daily converts the day''s spend with that day''s rate');
select results_eq(format('select cost_spend, roi from public.creative_funnel(%L, %L, %L, null, %L)', :'acc', '2026-11-01', '2026-11-30', 'sale_date'),
  $$values (45000.00::numeric, 11.11::numeric)$$, 'and on the sale-date basis');
select tests.clear_authentication();

-- Spend in the account's own currency next to converted spend: one currency for the cost metrics.
insert into public.ad_spend_daily (user_account_id, creative_id, spend_date, amount, currency)
values (:'acc', :'c1', '2026-11-04', 5000, 'RUB');
select tests.authenticate_as(:'alice');
select results_eq(format('select spend, spend_currency, cost_spend, roi from public.creative_funnel(%L)', :'acc'),
  $$values (null::numeric, 'mixed'::text, 50000.00::numeric, 0.00::numeric)$$,
  'USD and RUB spend: raw spend is mixed, but the cost metrics use 45,000 + 5,000 RUB');
-- Only the inverse pair recorded: RUB→USD 0.01 means 100 RUB per USD.
select tests.clear_authentication();
delete from public.currency_rates;
insert into public.currency_rates (rate_date, from_currency, to_currency, rate) values ('2026-11-02', 'RUB', 'USD', 0.01);
select tests.authenticate_as(:'alice');
select results_eq(format('select cost_spend from public.creative_funnel(%L)', :'acc'),
  $$values (55000.00::numeric)$$, 'the inverse of the reverse pair converts when the pair itself is missing');

-- An account whose amoCRM currency is not known yet: cost metrics in the spend currency, no roi.
select tests.clear_authentication();
insert into public.creatives (user_account_id, name) values (:'acc_new', 'New ad') returning id as c2 \gset
insert into public.leads (user_account_id, creative_id, created_at) values (:'acc_new', :'c2', '2026-11-03 09:00+00');
insert into public.ad_spend_daily (user_account_id, creative_id, spend_date, amount, currency)
values (:'acc_new', :'c2', '2026-11-03', 500, 'USD');
select tests.authenticate_as(:'alice');
select results_eq(format('select cost_currency, cpl, roi, roi_null_reason from public.creative_funnel(%L)', :'acc_new'),
  $$values ('USD'::text, 500.00::numeric, null::numeric, 'amoCRM account currency unknown'::text)$$,
  'revenue currency unknown: cpl in the spend currency, roi null with the reason');
select tests.clear_authentication();

select tests.authenticate_as(:'alice');
select throws_ok($$insert into public.currency_rates (rate_date, from_currency, to_currency, rate) values ('2026-11-01', 'EUR', 'RUB', 95)$$,
  '42501', null, 'members read rates but do not write them');
select tests.clear_authentication();

select * from finish();
rollback;
