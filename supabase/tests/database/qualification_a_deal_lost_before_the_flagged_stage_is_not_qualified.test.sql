-- Lost (143) is sorted after every stage of a pipeline, but losing a deal is not passing the qualified stage:
-- a deal lost before it reached a flagged stage is not qualified, nor is its product lead, whether the loss
-- arrives by webhook or through the API.
begin;
select plan(4);

select tests.create_account('Lost early agency') as acc \gset
select tests.seed_pipelines(:'acc');
insert into public.leads (user_account_id, amocrm_lead_id) values (:'acc', 6101) returning id as lead_id \gset

-- Webhooks: created in New (10), then lost straight from New; the flagged stage is Meeting (30).
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 6101, 1700000100, 10, 100)));
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 6101, 1700000200, 143, 100, 0, 10)));
select results_eq(format('select status_id, is_qualified from public.amocrm_deals where user_account_id = %L and amocrm_lead_id = 6101', :'acc'),
  $$values (143, false)$$, 'a deal lost from an early stage is not qualified');
select results_eq(format('select current_status_id, is_qualified from public.leads where id = %s', :lead_id),
  $$values (143, false)$$, '... and its product lead shows the loss, unqualified');

-- The API: a deal first seen already lost, in Talk (20) before that.
select private.apply_deal_snapshot(:'acc', jsonb_build_object('id', 6102, 'name', 'Deal 6102', 'price', 0,
  'status_id', 20, 'pipeline_id', 100, 'created_at', 1700000000, 'updated_at', 1700000100, 'is_deleted', false));
select private.apply_deal_snapshot(:'acc', jsonb_build_object('id', 6102, 'name', 'Deal 6102', 'price', 0,
  'status_id', 143, 'pipeline_id', 100, 'created_at', 1700000000, 'updated_at', 1700000200, 'is_deleted', false));
select is((select is_qualified from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 6102), false,
  'a deal the API reports lost from an early stage is not qualified');

-- Contrast: lost after the flagged stage stays qualified.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 6103, 1700000100, 30, 100)));
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 6103, 1700000200, 143, 100, 0, 30)));
select is((select is_qualified from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 6103), true,
  'a deal lost after the flagged stage stays qualified');

select * from finish();
rollback;
