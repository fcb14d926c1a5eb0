-- Every funnel/ROI metric on a small hand-computed fixture, read as a member (through RLS), all time and for a
-- date range: zero spend, no leads, leads without creative, lost-after-qualified, pending/cancelled sales,
-- two sales on one lead, an unqualified buyer, repeat revenue by phone, mixed currencies, direction filter.
begin;
select plan(26);

select tests.create_user('metrics-alice@example.com') as alice \gset
select tests.create_account('Metrics agency', :'alice') as acc \gset
select tests.create_account('Mixed currency agency', :'alice') as acc_mixed \gset
-- Revenue is in the amoCRM account's currency; roi needs it known (analytics_currency_roi covers the rest).
insert into amocrm.connections (user_account_id, subdomain, account_currency, account_timezone)
values (:'acc', 'metricsagency', 'RUB', 'UTC');

insert into public.directions (user_account_id, name) values (:'acc', 'Dental') returning id as d1 \gset
insert into public.directions (user_account_id, name) values (:'acc', 'Ortho') returning id as d2 \gset
insert into public.creatives (user_account_id, direction_id, name) values (:'acc', :'d1', 'Smile video') returning id as c1 \gset
insert into public.creatives (user_account_id, direction_id, name) values (:'acc', :'d1', 'Price banner') returning id as c2 \gset
insert into public.creatives (user_account_id, direction_id, name) values (:'acc', :'d2', 'Braces reel') returning id as c3 \gset
insert into public.creatives (user_account_id, direction_id, name) values (:'acc', :'d2', 'Never ran') returning id as c4 \gset

-- Smile video (c1): five leads.
--   l1 qualified, two paid sales (1000 + 500)      l2 qualified, then lost (stays qualified), no sale
--   l3 not qualified, its won deal was reopened    l4 qualified, won then lost (cancelled)
--   l5 qualified, paid 2000, in February
insert into public.leads (user_account_id, creative_id, direction_id, phone, is_qualified, created_at, current_pipeline_id, current_status_id)
values (:'acc', :'c1', :'d1', '+79000000001', true, '2026-01-05 10:00+00', 1, 142) returning id as l1 \gset
insert into public.leads (user_account_id, creative_id, direction_id, phone, is_qualified, created_at, current_pipeline_id, current_status_id)
values (:'acc', :'c1', :'d1', '+79000000002', true, '2026-01-05 11:00+00', 1, 143) returning id as l2 \gset
insert into public.leads (user_account_id, creative_id, direction_id, phone, is_qualified, created_at)
values (:'acc', :'c1', :'d1', '+79000000003', false, '2026-01-06 09:00+00') returning id as l3 \gset
insert into public.leads (user_account_id, creative_id, direction_id, phone, is_qualified, created_at)
values (:'acc', :'c1', :'d1', '+79000000004', true, '2026-01-20 09:00+00') returning id as l4 \gset
insert into public.leads (user_account_id, creative_id, direction_id, phone, is_qualified, created_at)
values (:'acc', :'c1', :'d1', '+79000000005', true, '2026-02-10 09:00+00') returning id as l5 \gset
-- Price banner (c2): one lead that bought without ever qualifying.
insert into public.leads (user_account_id, creative_id, direction_id, phone, is_qualified, created_at)
values (:'acc', :'c2', :'d1', '+79000000006', false, '2026-01-07 09:00+00') returning id as l6 \gset
-- No creative: l7 (Dental, qualified, a product-recorded client), l8 (no direction either).
insert into public.leads (user_account_id, creative_id, direction_id, chat_id, is_qualified, created_at)
values (:'acc', null, :'d1', '79000000007@s.whatsapp.net', true, '2026-01-08 09:00+00') returning id as l7 \gset
insert into public.leads (user_account_id, creative_id, direction_id, phone, is_qualified, created_at)
values (:'acc', null, null, '+79000000008', false, '2026-01-09 09:00+00') returning id as l8 \gset

insert into public.sales (user_account_id, amocrm_deal_id, lead_id, amount, status, closed_at) values
  (:'acc', 101, :l1, 1000, 'paid', '2026-01-10'),
  (:'acc', 102, :l1, 500, 'paid', '2026-03-01'),
  (:'acc', 103, :l3, 700, 'pending', '2026-01-12'),
  (:'acc', 104, :l4, 900, 'cancelled', '2026-01-25'),
  (:'acc', 105, :l5, 2000, 'paid', '2026-02-15'),
  (:'acc', 106, :l6, 300, 'paid', '2026-01-09'),
  -- A manager's own deal: paid, no product lead.
  (:'acc', 999, null, 5000, 'paid', '2026-01-20');
-- Product-recorded purchases of l7's client: one after the lead (repeat revenue), one before it (not the ad's).
-- The purchase mirroring a won deal (amocrm_deal_id set) is revenue through its sale, never repeat revenue.
insert into public.purchases (user_account_id, client_phone, amount, purchase_date, amocrm_deal_id) values
  (:'acc', '8 (900) 000-00-07', 400, '2026-01-10', null),
  (:'acc', '+7 900 000 00 07', 250, '2026-01-01', null),
  (:'acc', '+79000000001', 1000, '2026-01-10', 101);

insert into public.ad_spend_daily (user_account_id, creative_id, spend_date, amount, currency) values
  (:'acc', :'c1', '2026-01-05', 100, 'RUB'),
  (:'acc', :'c1', '2026-01-06', 200, 'RUB'),
  (:'acc', :'c1', '2026-02-10', 300, 'RUB'),
  (:'acc', :'c3', '2026-01-15', 50, 'RUB');

select tests.authenticate_as(:'alice');

-- All time, per creative. Columns: leads, qualified, qualification_rate, conversions, conversion_rate,
-- paid_sales, revenue, repeat_revenue, spend, spend_currency, cpl, cpql, cpa, roi.
create temp view m with (security_invoker = true) as
select f.creative_id, f.leads, f.qualified_leads, f.qualification_rate, f.conversions, f.conversion_rate, f.paid_sales,
  f.revenue, f.repeat_revenue, f.spend, f.spend_currency, f.cpl, f.cpql, f.cpa, f.roi
from public.creative_funnel((select id from public.user_accounts where name = 'Metrics agency')) f;

select results_eq(format('select leads, qualified_leads, qualification_rate, conversions, conversion_rate, paid_sales, revenue, repeat_revenue, spend, spend_currency, cpl, cpql, cpa, roi from m where creative_id = %L', :'c1'),
  $$values (5::bigint, 4::bigint, 80.00, 2::bigint, 50.00, 3::bigint, 3500.00, 0::numeric, 600.00, 'RUB', 120.00, 150.00, 300.00, 483.33)$$,
  'creative: lost-after-qualified counts as qualified, two sales convert one lead once, pending and cancelled sales count for nothing');
select results_eq(format('select leads, qualified_leads, qualification_rate, conversions, conversion_rate, revenue, spend, spend_currency, cpl, cpql, cpa, roi from m where creative_id = %L', :'c2'),
  $$values (1::bigint, 0::bigint, 0.00, 1::bigint, null::numeric, 300.00, 0::numeric, null::text, null::numeric, null::numeric, null::numeric, null::numeric)$$,
  'creative without spend: cost metrics and roi are null; conversion_rate with no qualified leads is null');
select results_eq(format('select leads, qualified_leads, qualification_rate, conversions, conversion_rate, revenue, spend, cpl, cpql, cpa, roi from m where creative_id = %L', :'c3'),
  $$values (0::bigint, 0::bigint, null::numeric, 0::bigint, null::numeric, 0::numeric, 50.00, null::numeric, null::numeric, null::numeric, -100.00)$$,
  'creative with spend and no leads: rates and cost per lead are null, roi is -100');
select is((select count(*) from m where creative_id = :'c4'), 0::bigint, 'a creative without leads or spend has no row');
select results_eq('select leads, qualified_leads, qualification_rate, conversions, conversion_rate, revenue, repeat_revenue, spend, cpl, roi from m where creative_id is null',
  $$values (2::bigint, 1::bigint, 50.00, 0::bigint, 0.00, 0::numeric, 400.00, 0::numeric, null::numeric, null::numeric)$$,
  'leads without a creative form their own row; a purchase after the lead is repeat revenue, one before it is not');
select is((select count(*) from m), 4::bigint, 'one row per creative with activity, plus the no-creative row');

-- January cohort: leads created in January and their later sales; spend in January.
select results_eq(format('select leads, qualified_leads, qualification_rate, conversions, conversion_rate, paid_sales, revenue, spend, cpl, cpql, cpa, roi from public.creative_funnel(%L, %L, %L) where creative_id = %L', :'acc', '2026-01-01', '2026-01-31', :'c1'),
  $$values (4::bigint, 3::bigint, 75.00, 1::bigint, 33.33, 2::bigint, 1500.00, 300.00, 75.00, 100.00, 300.00, 400.00)$$,
  'date range: the January cohort keeps its March sale, drops the February lead and spend');
select is((select count(*) from public.creative_funnel(:'acc', '2026-04-01', '2026-04-30')), 0::bigint,
  'a range without leads or spend returns no rows');

-- Per direction: leads by their own direction, spend by the creative's.
select results_eq(format('select leads, qualified_leads, qualification_rate, conversions, conversion_rate, paid_sales, revenue, repeat_revenue, spend, cpl, cpql, cpa, roi from public.direction_funnel(%L) where direction_id = %L', :'acc', :'d1'),
  $$values (7::bigint, 5::bigint, 71.43, 3::bigint, 60.00, 4::bigint, 3800.00, 400.00, 600.00, 85.71, 120.00, 200.00, 533.33)$$,
  'direction: its creatives'' leads plus its leads without a creative');
select results_eq(format('select leads, spend, cpl, roi from public.direction_funnel(%L) where direction_id = %L', :'acc', :'d2'),
  $$values (0::bigint, 50.00, null::numeric, -100.00)$$, 'direction with spend only');
select results_eq(format('select leads, qualified_leads, qualification_rate, conversion_rate from public.direction_funnel(%L) where direction_id is null', :'acc'),
  $$values (1::bigint, 0::bigint, 0.00, null::numeric)$$, 'leads without a direction form their own row');
select results_eq(
  format('select sum(leads), sum(qualified_leads), sum(conversions), sum(revenue), sum(repeat_revenue), sum(spend) from public.creative_funnel(%L, null, null, %L)', :'acc', :'d1'),
  format('select leads::numeric, qualified_leads::numeric, conversions::numeric, revenue, repeat_revenue, spend from public.direction_funnel(%L, null, null, %L)', :'acc', :'d1'),
  'creative rows filtered by a direction add up to that direction''s row');

-- The spec's qualification-stats shape.
select results_eq(format('select creative_id, creative_name, leads, qualified_leads, qualification_rate, conversions, conversion_rate from public.qualification_stats(%L)', :'acc'),
  format($$values (%L::uuid, 'Smile video'::text, 5::bigint, 4::bigint, 80.00, 2::bigint, 50.00),
                  (null::uuid, null::text, 2::bigint, 1::bigint, 50.00, 0::bigint, 0.00),
                  (%L::uuid, 'Price banner'::text, 1::bigint, 0::bigint, 0.00, 1::bigint, null::numeric)$$, :'c1', :'c2'),
  'qualification_stats: per creative with leads, most leads first');
select is((select count(*) from public.qualification_stats(:'acc', :'d2')), 0::bigint,
  'qualification_stats for a direction without leads is empty');

-- By day, every day of the range present.
select results_eq(format('select day, leads, qualified_leads, conversions, revenue, spend, roi from public.funnel_daily(%L, %L, %L)', :'acc', '2026-01-05', '2026-01-08'),
  $$values ('2026-01-05'::date, 2::bigint, 2::bigint, 1::bigint, 1500.00, 100.00, 1400.00),
           ('2026-01-06'::date, 1::bigint, 0::bigint, 0::bigint, 0::numeric, 200.00, -100.00),
           ('2026-01-07'::date, 1::bigint, 0::bigint, 1::bigint, 300.00, 0::numeric, null::numeric),
           ('2026-01-08'::date, 1::bigint, 1::bigint, 0::bigint, 0::numeric, 0::numeric, null::numeric)$$,
  'funnel_daily: lead metrics by lead day, spend by spend day');
select results_eq(format('select day, leads, spend from public.funnel_daily(%L, %L, %L, null, %L)', :'acc', '2026-01-05', '2026-01-07', :'c1'),
  $$values ('2026-01-05'::date, 2::bigint, 100.00), ('2026-01-06'::date, 1::bigint, 200.00), ('2026-01-07'::date, 0::bigint, 0::numeric)$$,
  'funnel_daily for one creative, empty days as zeros');

-- The views are the all-time functions per visible account.
select results_eq(format('select creative_id, leads, roi from public.creative_funnel_stats where user_account_id = %L order by leads desc, creative_id', :'acc'),
  format('select creative_id, leads, roi from public.creative_funnel(%L) order by leads desc, creative_id', :'acc'),
  'creative_funnel_stats = creative_funnel for the account');
select results_eq(format('select direction_id, leads, roi from public.direction_funnel_stats where user_account_id = %L order by leads desc, direction_id', :'acc'),
  format('select direction_id, leads, roi from public.direction_funnel(%L) order by leads desc, direction_id', :'acc'),
  'direction_funnel_stats = direction_funnel for the account');

-- Reconciliation with amoCRM.
select results_eq(format('select paid_sales, paid_revenue, attributed_paid_sales, attributed_revenue, unattributed_paid_sales, unattributed_revenue, unreconciled_revenue, repeat_revenue, product_purchases_revenue from public.account_revenue_totals where user_account_id = %L', :'acc'),
  $$values (5::bigint, 8800.00, 4::bigint, 3800.00, 1::bigint, 5000.00, 0.00, 400.00, 650.00)$$,
  'totals: attributed + unattributed = total paid (pending and cancelled excluded)');
select results_eq(format('select source, amocrm_deal_id, amount from public.unattributed_revenue where user_account_id = %L', :'acc'),
  $$values ('paid_sale'::text, 999::bigint, 5000.00::numeric(14,2))$$, 'the manager''s own paid deal is listed as unattributed');

-- Reopening a won deal takes its revenue out; winning it again puts it back.
select tests.clear_authentication();
update public.sales set status = 'pending' where user_account_id = :'acc' and amocrm_deal_id = 105;
select tests.authenticate_as(:'alice');
select results_eq(format('select leads, conversions, conversion_rate, revenue, roi from m where creative_id = %L', :'c1'),
  $$values (5::bigint, 1::bigint, 25.00, 1500.00, 150.00)$$, 'a paid sale reopened (pending) stops counting at once');
select tests.clear_authentication();
update public.sales set status = 'paid' where user_account_id = :'acc' and amocrm_deal_id = 105;
update public.sales set status = 'cancelled' where user_account_id = :'acc' and amocrm_deal_id = 101;
select tests.authenticate_as(:'alice');
select results_eq(format('select conversions, paid_sales, revenue from m where creative_id = %L', :'c1'),
  $$values (2::bigint, 2::bigint, 2500.00)$$, 'cancelling one of two sales keeps the lead converted');
select tests.clear_authentication();

-- Unattributed amoCRM deals: a won one without a sale yet is listed, not counted.
insert into public.amocrm_deals (user_account_id, amocrm_lead_id, name, pipeline_id, status_id, price)
values (:'acc', 998, 'Walk-in', 1, 142, 700), (:'acc', 999, 'Own deal', 1, 142, 5000);
select tests.authenticate_as(:'alice');
select results_eq(format('select source, amocrm_deal_id, amount from public.unattributed_revenue where user_account_id = %L order by amocrm_deal_id', :'acc'),
  $$values ('won_deal_unconfirmed'::text, 998::bigint, 700.00::numeric(14,2)), ('paid_sale'::text, 999::bigint, 5000.00::numeric(14,2))$$,
  'a won amoCRM deal without a lead and without a confirmed sale is listed as unconfirmed');
select results_eq(format('select amocrm_won_deals, amocrm_won_amount, amocrm_won_unattributed_deals, amocrm_won_awaiting_confirmation from public.account_revenue_totals where user_account_id = %L', :'acc'),
  $$values (2::bigint, 5700.00, 2::bigint, 1::bigint)$$, 'totals show the amoCRM side: won deals, unattributed, awaiting confirmation');
select tests.clear_authentication();

-- Mixed currencies: no sum across currencies, no cost metrics.
insert into public.creatives (user_account_id, name) values (:'acc_mixed', 'Global') returning id as cm \gset
insert into public.leads (user_account_id, creative_id, created_at) values (:'acc_mixed', :'cm', '2026-01-05 10:00+00');
insert into public.ad_spend_daily (user_account_id, creative_id, spend_date, amount, currency) values
  (:'acc_mixed', :'cm', '2026-01-05', 100, 'RUB'), (:'acc_mixed', :'cm', '2026-01-05', 5, 'USD');
select tests.authenticate_as(:'alice');
select results_eq(format('select leads, spend, spend_currency, cpl, roi from public.creative_funnel(%L)', :'acc_mixed'),
  $$values (1::bigint, null::numeric, 'mixed'::text, null::numeric, null::numeric)$$,
  'spend in two currencies: spend and cost metrics are null, currency says mixed');
select results_eq(format('select leads, spend, spend_currency, cpl from public.creative_funnel(%L, %L, %L)', :'acc_mixed', '2026-01-05', '2026-01-05'),
  $$values (1::bigint, null::numeric, 'mixed'::text, null::numeric)$$, '... also within a range');
select tests.clear_authentication();

select * from finish();
rollback;
