-- Two different changes of one deal in the same second are two events, not a redelivery: both transitions
-- are kept in history and the deal ends where the chain ends (old_status_id of one = status_id of the other),
-- whatever order they arrive in. Robots (Salesbot, digital pipeline) move deals several times a second.
begin;
select plan(9);

-- 10→20 and 20→30 within second 1700000500, in order and in reverse, one POST each.
select tests.create_account('Chain in order') as fwd \gset
select tests.seed_pipelines(:'fwd');
select tests.deliver(:'fwd', jsonb_build_array(tests.lead_event('add', 9101, 1700000000, 10, 100)));
select tests.deliver(:'fwd', jsonb_build_array(tests.lead_event('status', 9101, 1700000500, 20, 100, 0, 10)));
select tests.deliver(:'fwd', jsonb_build_array(tests.lead_event('status', 9101, 1700000500, 30, 100, 0, 20)));

select tests.create_account('Chain reversed') as rev \gset
select tests.seed_pipelines(:'rev');
select tests.deliver(:'rev', jsonb_build_array(tests.lead_event('add', 9101, 1700000000, 10, 100)));
select tests.deliver(:'rev', jsonb_build_array(tests.lead_event('status', 9101, 1700000500, 30, 100, 0, 20)));
select tests.deliver(:'rev', jsonb_build_array(tests.lead_event('status', 9101, 1700000500, 20, 100, 0, 10)));

select is((select count(*) from amocrm.webhook_events where user_account_id = :'fwd' and action = 'status'),
  2::bigint, 'the second change of the same second is stored, not dropped as a redelivery');
select is((select status_id from public.amocrm_deals where user_account_id = :'fwd'), 30,
  'in order: the deal ends at the end of the chain');
select is((select status_id from public.amocrm_deals where user_account_id = :'rev'), 30,
  'reversed: the deal still ends at the end of the chain');
select results_eq(format($$select from_status_id, to_status_id from public.amocrm_lead_status_history
  where user_account_id = %L and changed_at = to_timestamp(1700000500) order by from_status_id$$, :'rev'),
  $$values (10, 20), (20, 30)$$, 'reversed: history has both transitions');
select is(tests.deal_fingerprint(:'rev', 9101), tests.deal_fingerprint(:'fwd', 9101),
  'state and history do not depend on delivery order');

-- A→B→A in one second: two rows, and the deal is back at A.
select tests.create_account('Back and forth') as bf \gset
select tests.seed_pipelines(:'bf');
select tests.deliver(:'bf', jsonb_build_array(tests.lead_event('add', 9102, 1700000000, 10, 100)));
select tests.deliver(:'bf', jsonb_build_array(tests.lead_event('status', 9102, 1700000600, 10, 100, 0, 20)));
select tests.deliver(:'bf', jsonb_build_array(tests.lead_event('status', 9102, 1700000600, 20, 100, 0, 10)));
select results_eq(format($$select from_status_id, to_status_id from public.amocrm_lead_status_history
  where user_account_id = %L and changed_at = to_timestamp(1700000600) order by from_status_id$$, :'bf'),
  $$values (10, 20), (20, 10)$$, 'A→B→A within one second keeps both transitions');
select is((select status_id from public.amocrm_deals where user_account_id = :'bf'), 10,
  'A→B→A delivered backwards ends at A');

-- A real redelivery (the same event again) is still one event.
select tests.deliver(:'bf', jsonb_build_array(tests.lead_event('status', 9102, 1700000600, 20, 100, 0, 10)));
select is((select count(*) from amocrm.webhook_events where user_account_id = :'bf' and action = 'status'),
  2::bigint, 'the same event delivered again is a duplicate');
select is((select count(*) from public.amocrm_lead_status_history where user_account_id = :'bf'), 3::bigint,
  '... and adds no history');

select * from finish();
rollback;
