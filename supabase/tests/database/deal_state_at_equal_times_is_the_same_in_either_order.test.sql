-- Two different states of one deal with the same amoCRM time (amoCRM's updated_at has one-second resolution)
-- resolve to the same winner whichever arrives first: the tiebreak decides, not the order of delivery. An API
-- snapshot at that time beats both webhooks, and a webhook at the snapshot's time does not override it.
begin;
select plan(4);

select tests.create_account('Tie AB') as ab \gset
select tests.create_account('Tie BA') as ba \gset
select tests.seed_pipelines(:'ab');
select tests.seed_pipelines(:'ba');

-- The same second: one update says Talk at 100, the other Talk at 200.
select tests.deliver(:'ab', jsonb_build_array(tests.lead_event('update', 6201, 1700000100, 20, 100, 100)));
select tests.deliver(:'ab', jsonb_build_array(tests.lead_event('update', 6201, 1700000100, 20, 100, 200)));
select tests.deliver(:'ba', jsonb_build_array(tests.lead_event('update', 6201, 1700000100, 20, 100, 200)));
select tests.deliver(:'ba', jsonb_build_array(tests.lead_event('update', 6201, 1700000100, 20, 100, 100)));
select is(tests.deal_fingerprint(:'ab', 6201), tests.deal_fingerprint(:'ba', 6201),
  'two states at the same amoCRM time give the same deal in either delivery order');
select ok((select price from public.amocrm_deals where user_account_id = :'ab' and amocrm_lead_id = 6201) in (100, 200),
  '... and it is one of the two');

-- The API read at that same second: authoritative over both webhooks.
select private.apply_deal_snapshot(:'ab', jsonb_build_object('id', 6201, 'name', 'Deal 6201', 'price', 300,
  'status_id', 20, 'pipeline_id', 100, 'created_at', 1700000000, 'updated_at', 1700000100, 'is_deleted', false));
select is((select price from public.amocrm_deals where user_account_id = :'ab' and amocrm_lead_id = 6201), 300.00::numeric(14,2),
  'an API snapshot at the same time wins over the webhooks');
select tests.deliver(:'ab', jsonb_build_array(tests.lead_event('update', 6201, 1700000100, 20, 100, 400)));
select is((select price from public.amocrm_deals where user_account_id = :'ab' and amocrm_lead_id = 6201), 300.00::numeric(14,2),
  'a webhook at the snapshot''s time does not override it');

select * from finish();
rollback;
