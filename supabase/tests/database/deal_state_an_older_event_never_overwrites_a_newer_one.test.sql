-- Deal state is newer-wins by amoCRM's updated_at: an event older than the stored state (a late delivery) changes
-- nothing, whatever it says — not the stage, not the price, not the name.
begin;
select plan(1);

select tests.create_account('Newer wins agency') as acc \gset
select tests.seed_pipelines(:'acc');

select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 7301, 1700000100, 10, 100)));
-- The newer edit (price 200, in Talk) arrives first, the older one (price 100, still in New) after it.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('update', 7301, 1700000300, 20, 100, 200)));
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('update', 7301, 1700000200, 10, 100, 100)));
select results_eq(
  format('select status_id, price, amocrm_updated_at from public.amocrm_deals where user_account_id = %L and amocrm_lead_id = 7301', :'acc'),
  $$values (20, 200.00::numeric, to_timestamp(1700000300))$$,
  'the late, older update leaves the newer state as it was');
select * from finish();
rollback;
