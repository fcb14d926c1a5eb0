-- A pipeline sync that changes the stage catalog in a way that changes the rule's outcome (a re-sort, a new
-- stage between, a removed stage) recomputes the affected deals in the same transaction, not only a flag flip.
begin;
select plan(6);

select tests.create_account('Catalog agency') as acc \gset

create or replace function pg_temp.pipeline(p_statuses jsonb)
returns jsonb language sql immutable as $$
  select jsonb_build_array(jsonb_build_object('id', 100, 'name', 'Sales', 'sort', 1,
    '_embedded', jsonb_build_object('statuses', (
      select jsonb_agg(jsonb_build_object('id', (s ->> 0)::int, 'name', 'Stage ' || (s ->> 0), 'sort', (s ->> 1)::int,
        'pipeline_id', 100, 'color', '#fff', 'type', 0))
      from jsonb_array_elements(p_statuses) s))))
$$;
create or replace function pg_temp.qualified(p_acc uuid, p_deal bigint)
returns boolean language sql stable as $$
  select is_qualified from public.amocrm_deals where user_account_id = p_acc and amocrm_lead_id = p_deal
$$;

select private.sync_pipeline_stages(:'acc', pg_temp.pipeline(
  '[[10, 10], [20, 20], [30, 30], [40, 40], [142, 10000], [143, 11000]]'));
update public.amocrm_pipeline_stages set is_qualified_stage = true
where user_account_id = :'acc' and pipeline_id = 100 and status_id = 30;

select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('update', 5101, 1700000100, 20, 100)));
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('update', 5102, 1700000100, 25, 100)));
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 5103, 1700000100, 10, 100)));
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 5103, 1700000200, 40, 100, 0, 10)));
select results_eq(format($$select amocrm_lead_id, is_qualified from public.amocrm_deals where user_account_id = %L
  order by 1$$, :'acc'), $$values (5101::bigint, false), (5102::bigint, false), (5103::bigint, true)$$,
  'before: Talk and the unknown stage 25 are not qualified, Contract is');

-- amoCRM now: Talk moved after Meeting, a new stage 25 between Meeting and Contract.
select private.sync_pipeline_stages(:'acc', pg_temp.pipeline(
  '[[10, 10], [30, 30], [20, 35], [25, 37], [40, 40], [142, 10000], [143, 11000]]'));
select is(pg_temp.qualified(:'acc', 5101), true, 'a stage re-sorted past the flagged one qualifies its deals at once');
select is(pg_temp.qualified(:'acc', 5102), true, 'a new stage between, past the flagged one, qualifies the deal in it');

-- Contract moved before Meeting: the deal that jumped New → Contract never passed Meeting.
select private.sync_pipeline_stages(:'acc', pg_temp.pipeline(
  '[[10, 10], [40, 15], [30, 30], [20, 35], [25, 37], [142, 10000], [143, 11000]]'));
select is(pg_temp.qualified(:'acc', 5103), false, 'a stage re-sorted before the flagged one unqualifies deals that never passed it');

-- Meeting (flagged) removed in amoCRM: archived, it keeps its place, so Talk (35) still passed it.
select private.sync_pipeline_stages(:'acc', pg_temp.pipeline(
  '[[10, 10], [40, 15], [20, 35], [25, 37], [142, 10000], [143, 11000]]'));
select is(pg_temp.qualified(:'acc', 5101), true, 'a removed (archived) flagged stage keeps its place in the order');

-- Deleting a catalog row outright recomputes too: stage 25 gone means 5102 is in an unknown stage.
delete from public.amocrm_pipeline_stages where user_account_id = :'acc' and status_id = 25;
select is(pg_temp.qualified(:'acc', 5102), false, 'a deleted stage recomputes the deals that were in it');

select * from finish();
rollback;
