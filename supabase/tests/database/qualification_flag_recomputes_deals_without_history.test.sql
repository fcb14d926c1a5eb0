-- Turning a qualified flag on recomputes every deal whose current stage or any past stage is in that
-- pipeline, not only deals with a history row into it: update events write no history, so a deal first
-- seen through an update (or known only from the "from" side of a move) has none.
begin;
select plan(4);

select tests.create_account('Flag agency') as acc \gset
select tests.seed_pipelines(:'acc');
-- Start with no flag in pipeline 100.
update public.amocrm_pipeline_stages set is_qualified_stage = false where user_account_id = :'acc';

-- Deal 7001 appears through an update event, already in Contract (40, past Meeting 30): no history row.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('update', 7001, 1700000100, 40, 100)));
-- Deal 7002 was in Contract before tracking began: its only history is a move out of it, into pipeline 200.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 7002, 1700000100, 210, 200, 0, 40)));
-- Deal 7003 sits in Talk (20), before the flagged stage.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('update', 7003, 1700000100, 20, 100)));

select is((select count(*) from public.amocrm_lead_status_history where user_account_id = :'acc' and amocrm_lead_id = 7001),
  0::bigint, 'the update-created deal has no history');

update public.amocrm_pipeline_stages set is_qualified_stage = true
where user_account_id = :'acc' and pipeline_id = 100 and status_id = 30;

select is((select is_qualified from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 7001), true,
  'a deal in a stage past the flagged one is qualified at once, history or not');
select is((select is_qualified from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 7002), true,
  'a deal that left a stage past the flagged one (known only as a "from") is qualified too');
select is((select is_qualified from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 7003), false,
  'a deal before the flagged stage is not');

select * from finish();
rollback;
