-- Periods by sale date: the funnel RPCs can count money on the day the sale closed (what amoCRM reports), not
-- only on the lead's creation day; revenue_totals gives a period's attributed + unattributed = paid total to
-- the kopeck; time to sale is the median of local days from lead to first paid sale. Account zone: Moscow.
begin;
select plan(17);

select tests.create_user('sold-alice@example.com') as alice \gset
select tests.create_user('sold-mallory@example.com') as mallory \gset
select tests.create_account('Sold in November', :'alice') as acc \gset
select tests.create_account('Mallory agency', :'mallory') as acc_m \gset
insert into amocrm.connections (user_account_id, subdomain, account_currency, account_timezone)
values (:'acc', 'soldinnovember', 'RUB', 'Europe/Moscow');
insert into public.directions (user_account_id, name) values (:'acc', 'Implants') returning id as d1 \gset
insert into public.directions (user_account_id, name) values (:'acc', 'Whitening') returning id as d2 \gset
insert into public.creatives (user_account_id, direction_id, name) values (:'acc', :'d1', 'Implant reel') returning id as c1 \gset
insert into public.creatives (user_account_id, direction_id, name) values (:'acc', :'d2', 'White smile') returning id as c2 \gset

-- l1 (c1, 20 Nov): paid 1,000.50 on 25 Nov and 2,000.25 at 00:30 Moscow on 1 Dec (21:30 UTC on 30 Nov).
-- l2 (c2, 30 Oct): paid 300.10 on 10 Nov.  l3 (c1, 21 Nov): paid 100.00 on 22 Nov.
-- A manager's deal without a lead: paid 700.15 on 15 Nov; a pending sale counts nowhere.
insert into public.leads (user_account_id, creative_id, direction_id, created_at)
values (:'acc', :'c1', :'d1', '2026-11-20 10:00+00') returning id as l1 \gset
insert into public.leads (user_account_id, creative_id, direction_id, created_at)
values (:'acc', :'c2', :'d2', '2026-10-30 10:00+00') returning id as l2 \gset
insert into public.leads (user_account_id, creative_id, direction_id, created_at)
values (:'acc', :'c1', :'d1', '2026-11-21 10:00+00') returning id as l3 \gset
insert into public.sales (user_account_id, amocrm_deal_id, lead_id, amount, status, closed_at) values
  (:'acc', 1, :l1, 1000.50, 'paid', '2026-11-25 10:00+00'),
  (:'acc', 2, :l1, 2000.25, 'paid', '2026-11-30 21:30+00'),
  (:'acc', 3, :l2, 300.10, 'paid', '2026-11-10 10:00+00'),
  (:'acc', 4, :l3, 100.00, 'paid', '2026-11-22 10:00+00'),
  (:'acc', 5, null, 700.15, 'paid', '2026-11-15 10:00+00'),
  (:'acc', 6, null, 999.00, 'pending', '2026-11-16 10:00+00');

select tests.authenticate_as(:'alice');
select results_eq(format('select creative_id, leads, conversions, paid_sales, revenue from public.creative_funnel(%L, %L, %L) order by creative_id', :'acc', '2026-11-01', '2026-11-30'),
  format($$values (%L::uuid, 2::bigint, 2::bigint, 3::bigint, 3100.75::numeric)$$, :'c1'),
  'lead-date cohort of November: November''s leads with all their sales, the December one included');
select results_eq(format('select creative_id, leads, conversions, paid_sales, revenue, repeat_revenue from public.creative_funnel(%L, %L, %L, null, %L) order by creative_name', :'acc', '2026-11-01', '2026-11-30', 'sale_date'),
  format($$values (%L::uuid, 2::bigint, 2::bigint, 2::bigint, 1100.50::numeric, null::numeric), (%L::uuid, 0::bigint, 1::bigint, 1::bigint, 300.10::numeric, null::numeric)$$, :'c1', :'c2'),
  'sold in November: the sales closed in November (Moscow days), whichever month their leads came');
select results_eq(format('select creative_id, leads, conversions, paid_sales, revenue from public.creative_funnel(%L, %L, %L, null, %L)', :'acc', '2026-12-01', '2026-12-31', 'sale_date'),
  format($$values (%L::uuid, 0::bigint, 0::bigint, 1::bigint, 2000.25::numeric)$$, :'c1'),
  'sold in December: the sale at 00:30 Moscow on 1 Dec; no first purchase (l1 first bought in November)');
select results_eq(format('select direction_id, revenue, conversions from public.direction_funnel(%L, %L, %L, null, %L) order by direction_name', :'acc', '2026-11-01', '2026-11-30', 'sale_date'),
  format($$values (%L::uuid, 1100.50::numeric, 2::bigint), (%L::uuid, 300.10::numeric, 1::bigint)$$, :'d1', :'d2'),
  'direction_funnel by sale date');
select results_eq(format('select day, revenue, paid_sales from public.funnel_daily(%L, %L, %L, null, null, %L) where paid_sales > 0', :'acc', '2026-11-20', '2026-12-01', 'sale_date'),
  $$values ('2026-11-22'::date, 100.00::numeric, 1::bigint), ('2026-11-25'::date, 1000.50::numeric, 1::bigint), ('2026-12-01'::date, 2000.25::numeric, 1::bigint)$$,
  'funnel_daily by sale date puts money on the local close day');
select results_eq(format('select paid_sales, paid_revenue, attributed_revenue, unattributed_paid_sales, unattributed_revenue, unreconciled_revenue, currency from public.revenue_totals(%L, %L, %L)', :'acc', '2026-11-01', '2026-11-30'),
  $$values (4::bigint, 2100.75::numeric, 1400.60::numeric, 1::bigint, 700.15::numeric, 0::numeric, 'RUB'::text)$$,
  'November by sale date: attributed 1,400.60 + unattributed 700.15 = 2,100.75 paid, in RUB');
select results_eq(
  format($$select (select sum(revenue) from public.creative_funnel(%1$L, '2026-11-01', '2026-11-30', null, 'sale_date'))
    + (select unattributed_revenue from public.revenue_totals(%1$L, '2026-11-01', '2026-11-30'))$$, :'acc'),
  $$values (2100.75::numeric)$$, 'per-creative revenue + unattributed = the period''s paid total');
select results_eq(format($$select amount from public.unattributed_revenue where user_account_id = %L and sale_day between '2026-11-01' and '2026-11-30'$$, :'acc'),
  $$values (700.15::numeric(14,2))$$, 'unattributed_revenue can be cut by period (sale_day)');
select results_eq(format('select creative_id, converted_leads, time_to_sale_days from public.time_to_sale(%L) order by creative_name', :'acc'),
  format($$values (%L::uuid, 2::bigint, 3.0::numeric), (%L::uuid, 1::bigint, 11.0::numeric)$$, :'c1', :'c2'),
  'time to sale: median of 5 and 1 days for the implant reel, 11 days for the other');
select results_eq(format('select creative_id, direction_id, time_to_sale_days from public.time_to_sale(%L, %L, %L, %L, %L) order by direction_name', :'acc', '2026-11-01', '2026-11-30', 'direction', 'sale_date'),
  format($$values (null::uuid, %L::uuid, 3.0::numeric), (null::uuid, %L::uuid, 11.0::numeric)$$, :'d1', :'d2'),
  'time to sale per direction, for the leads that first bought in the period');
select results_eq(format('select count(*)::int from public.revenue_totals(%L, null, null)', :'acc_m'),
  $$values (0)$$, 'a non-member gets no totals');
select throws_ok(format('select * from public.creative_funnel(%L, null, null, null, %L)', :'acc', 'close_date'),
  '22023', null, 'an unknown basis is an error');
select tests.clear_authentication();

-- Changes the triggers must follow: a cancelled sale (l1's first sale moves to December), an amount edit, a lead
-- moved to another creative, a sale's close time corrected, a deleted lead (its sale becomes unattributed).
update public.sales set status = 'cancelled' where amocrm_deal_id = 1 and user_account_id = :'acc';
update public.sales set amount = 2000.99 where amocrm_deal_id = 2 and user_account_id = :'acc';
update public.leads set creative_id = :'c2', direction_id = :'d2' where id = :l1;
update public.sales set closed_at = '2026-11-12 10:00+00' where amocrm_deal_id = 3 and user_account_id = :'acc';
delete from public.leads where id = :l3;
select tests.clear_authentication();

select results_eq(format('select day, attributed, creative_id, direction_id, paid_sales::bigint, revenue, first_sales::bigint from private.analytics_sale_daily where user_account_id = %L and (paid_sales, revenue, first_sales) <> (0, 0, 0) order by 1, 2, 3', :'acc'),
  format('select day, attributed, creative_id, direction_id, paid_sales, revenue, first_sales from private.analytics_expected_sale_rollup(%L) order by 1, 2, 3', :'acc'),
  'after every change the sale-date rollup equals the from-scratch numbers');
select results_eq(format('select day, attributed, creative_id, paid_sales, revenue, first_sales from private.analytics_sale_daily where user_account_id = %L and (paid_sales, revenue, first_sales) <> (0, 0, 0) order by 1, 2', :'acc'),
  format($$values ('2026-11-12'::date, true, %L::uuid, 1, 300.10::numeric, 1), ('2026-11-15'::date, false, null::uuid, 1, 700.15::numeric, 0),
    ('2026-11-22'::date, false, null::uuid, 1, 100.00::numeric, 0), ('2026-12-01'::date, true, %L::uuid, 1, 2000.99::numeric, 1)$$, :'c2', :'c2'),
  '... which are: l2''s sale on 12 Nov, the two unattributed ones, l1''s remaining sale (now the first) on 1 Dec');
select results_eq(format('select lead_id, lead_day, sale_day from private.analytics_first_sales where user_account_id = %L order by lead_id', :'acc'),
  format($$values (%s::bigint, '2026-11-20'::date, '2026-12-01'::date), (%s::bigint, '2026-10-30'::date, '2026-11-12'::date)$$, :l1, :l2),
  'first sales follow: l1 now first bought on 1 Dec, l2 on 12 Nov, l3 is gone');
select results_eq(format('select paid_revenue, attributed_revenue, unattributed_revenue, unreconciled_revenue from public.revenue_totals(%L, %L, %L)', :'acc', '2026-11-01', '2026-11-30'),
  $$values (1100.25::numeric, 300.10::numeric, 800.15::numeric, 0::numeric)$$, 'November''s totals still reconcile');
select results_eq(format('select creative_id, time_to_sale_days from public.time_to_sale(%L)', :'acc'),
  format($$values (%L::uuid, 12.0::numeric)$$, :'c2'), 'time to sale: median of 11 and 13 days');

select * from finish();
rollback;
