-- Stage order is the order amoCRM shows: Unsorted first, then sort, then a stable tie-break (status id). A
-- stage that shares the flagged stage's sort value but comes before it has not "passed" it, and the same
-- order is used by the qualification rule and by the stage funnel.
begin;
select plan(6);

select tests.create_account('Tie agency') as acc \gset
insert into public.amocrm_pipeline_stages
  (user_account_id, pipeline_id, pipeline_name, status_id, status_name, sort_order, status_type, is_qualified_stage)
values
  (:'acc', 100, 'Sales', 50, 'Unsorted', 10, 1, false),
  (:'acc', 100, 'Sales', 10, 'New', 10, 0, false),
  (:'acc', 100, 'Sales', 20, 'Talk', 20, 0, false),
  (:'acc', 100, 'Sales', 25, 'Meeting', 20, 0, true),
  (:'acc', 100, 'Sales', 27, 'Offer', 20, 0, false),
  (:'acc', 100, 'Sales', 142, 'Won', 10000, 0, false),
  (:'acc', 100, 'Sales', 143, 'Lost', 11000, 0, false);

select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('update', 6001, 1700000100, 20, 100)));
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('update', 6002, 1700000100, 27, 100)));
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('update', 6003, 1700000100, 50, 100)));

select is((select is_qualified from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 6001), false,
  'a stage with the flagged stage''s sort value, shown before it, has not passed it');
select is((select is_qualified from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 6002), true,
  'a stage with the same sort value shown after it has');
select is((select is_qualified from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 6003), false,
  'a deal in Unsorted is not qualified');

-- Flag Unsorted's neighbour New (same sort as Unsorted): Unsorted still comes first.
update public.amocrm_pipeline_stages set is_qualified_stage = (status_id = 10) where user_account_id = :'acc';
select is((select is_qualified from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 6003), false,
  'Unsorted comes before every stage, even one with its sort value');

select is((select array_agg(status_id order by ord) from (
    select f.status_id, row_number() over () as ord from public.stage_funnel(:'acc', 100) f) x),
  array[50, 10, 20, 25, 27, 142, 143], 'the stage funnel lists stages in the same order');

-- A product lead in Talk (20) has not reached Meeting (25), which shares Talk's sort value.
update public.amocrm_pipeline_stages set is_qualified_stage = (status_id = 25) where user_account_id = :'acc';
insert into public.leads (user_account_id, amocrm_lead_id) values (:'acc', 6001);
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('update', 6001, 1700000200, 20, 100)));
select results_eq(format($$select status_id, leads_reached from public.stage_funnel(%L, 100)
  where status_id in (20, 25) order by status_id$$, :'acc'),
  $$values (20, 1::bigint), (25, 0::bigint)$$, 'the funnel''s "reached" uses the same order');

select * from finish();
rollback;
