-- An event's amoCRM time is bounded by the webhook's receipt (private.webhook_clock_tolerance(), 1 day): an
-- event beyond it is quarantined with the reason and cannot freeze the deal; one within it applies. A stored
-- POST is applied in slices that say what they did and what is left.
begin;
select plan(10);

select tests.create_account('Time bound agency') as acc \gset
select tests.seed_pipelines(:'acc');
select extract(epoch from now())::bigint as now_s \gset

select is(private.webhook_clock_tolerance(), interval '1 day', 'the tolerance is one day');

-- A minute past the tolerance (year 5138 is far past it), and a minute within it.
select tests.deliver(:'acc', jsonb_build_array(
  tests.lead_event('update', 7001, :now_s + 86400 + 60, 20, 100),
  tests.lead_event('update', 7002, :now_s + 86400 - 60, 20, 100),
  tests.lead_event('update', 7003, 99999999999, 40, 100))) as inbox \gset
select results_eq(
  format('select amocrm_id, state from amocrm.webhook_events where inbox_id = %s order by amocrm_id', :inbox),
  $$values (7001::bigint, 'quarantined'::text), (7002, 'applied'), (7003, 'quarantined')$$,
  'events beyond the tolerance are quarantined, the one within it applies');
select matches(
  (select error from amocrm.webhook_events where inbox_id = :inbox and amocrm_id = 7003),
  '^amoCRM time 99999999999 is more than 1 day ahead of the webhook''s receipt',
  'the reason says what was wrong');
select is((select state from amocrm.webhook_inbox where id = :inbox), 'processed', 'the POST is processed');
select is((select count(*)::int from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id in (7001, 7003)),
  0, 'a quarantined event leaves no deal state behind');

-- The API snapshot of such a deal applies (nothing stored outranks it), and so do later webhooks.
select is(private.apply_deal_snapshot(:'acc', jsonb_build_object('id', 7003, 'name', 'Deal 7003', 'status_id', 30,
  'pipeline_id', 100, 'price', 10, 'responsible_user_id', 1, 'created_at', :now_s - 600, 'updated_at', :now_s - 60)),
  'applied', 'the API snapshot applies');
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('update', 7003, :now_s, 40, 100)));
select is((select status_id from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 7003), 40,
  'a later webhook applies');

-- Slices: at most N events per call, the rest left pending and reported.
select inbox_id as sliced from private.receive_webhook(:'acc', 'application/x-www-form-urlencoded', 'test',
  (select jsonb_agg(tests.lead_event('update', 7100 + g, :now_s, 20, 100)) from generate_series(1, 5) g)) \gset
select results_eq(format('select * from private.apply_webhook_events_slice(%s, 2)', :sliced),
  $$values (2, 0, 3)$$, 'a slice applies at most its limit and says how many are left');
select results_eq(format('select applied, pending from private.apply_webhook_events_slice(%s, 10)', :sliced),
  $$values (3, 0)$$, 'the last slice applies the rest');
select is((select state from amocrm.webhook_inbox where id = :sliced), 'processed', 'and finishes the POST');

select * from finish();
rollback;
