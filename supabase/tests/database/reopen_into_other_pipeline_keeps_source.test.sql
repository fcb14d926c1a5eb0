-- A won deal reopened into another pipeline arrives as one POST with an update event and a status event of
-- the same second (account webhooks carry no old_pipeline_id, and 142 exists in every pipeline). The history
-- row keeps where the deal really came from, whichever order the POST lists them in.
begin;
select plan(3);

select tests.create_account('Reopen agency') as acc \gset
select tests.seed_pipelines(:'acc');

select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 4101, 1700000100, 10, 100)));
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 4101, 1700000200, 142, 100, 900, 10)));
-- Reopened into pipeline 200: the update first in the POST, as amoCRM may list it.
select tests.deliver(:'acc', jsonb_build_array(
  tests.lead_event('update', 4101, 1700000300, 210, 200, 900),
  tests.lead_event('status', 4101, 1700000300, 210, 200, 900, 142)));

select results_eq(format($$select from_pipeline_id, from_status_id, to_pipeline_id, to_status_id
  from public.amocrm_lead_status_history where user_account_id = %L and changed_at = to_timestamp(1700000300)$$, :'acc'),
  $$values (100, 142, 200, 210)$$, 'the reopen came from the won stage of pipeline 100');

-- Deal 4102: won before tracking began (no history into 142), reopened the same way.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('update', 4102, 1700000200, 142, 100, 900)));
select tests.deliver(:'acc', jsonb_build_array(
  tests.lead_event('update', 4102, 1700000300, 210, 200, 900),
  tests.lead_event('status', 4102, 1700000300, 210, 200, 900, 142)));
select results_eq(format($$select from_pipeline_id, to_pipeline_id from public.amocrm_lead_status_history
  where user_account_id = %L and amocrm_lead_id = 4102$$, :'acc'),
  $$values (100, 200)$$, 'without history, the stored state of the POST''s start says where it came from');

select is((select concat_ws(',', pipeline_id, status_id) from public.amocrm_deals
  where user_account_id = :'acc' and amocrm_lead_id = 4102), '200,210', 'and the deal is in its new stage');

select * from finish();
rollback;
