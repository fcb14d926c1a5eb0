-- A product lead shows the stage of the deal created for it (linked by amocrm_lead_id) even when a newer deal
-- is linked to it by phone; once its own deal is deleted, it shows the live phone-linked one instead.
begin;
select plan(3);

select tests.create_account('Own deal agency') as acc \gset
select tests.seed_pipelines(:'acc');
-- Created before its deals (a deal is credited by phone only to a lead that existed when it was created).
insert into public.leads (user_account_id, amocrm_lead_id, phone, created_at) values (:'acc', 6601, '+7 912 555-66-01', '2023-11-01Z')
returning id as lead_id \gset

-- Its own deal, in Talk (20); then a manager's newer deal for the same client, in Contract (40).
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 6601, 1700000100, 20, 100)));
select private.apply_deal_snapshot(:'acc', jsonb_build_object('id', 6602, 'name', 'Deal 6602', 'price', 0,
  'status_id', 40, 'pipeline_id', 100, 'created_at', 1700000500, 'updated_at', 1700000600, 'is_deleted', false),
  '8 (912) 555-66-01');
select is((select lead_id from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 6602),
  :lead_id::bigint, 'the newer deal is linked to the lead by phone');
select results_eq(format('select current_pipeline_id, current_status_id from public.leads where id = %s', :lead_id),
  $$values (100, 20)$$, 'the lead shows its own deal''s stage, not the newer phone-linked one');

-- Its own deal is deleted in amoCRM.
select tests.deliver(:'acc', jsonb_build_array(jsonb_build_object('entity', 'lead', 'action', 'delete', 'amocrm_id', 6601,
  'amocrm_ts', 0, 'payload', jsonb_build_object('id', '6601', 'status_id', '20', 'pipeline_id', '100'))));
select results_eq(format('select current_pipeline_id, current_status_id from public.leads where id = %s', :lead_id),
  $$values (100, 40)$$, 'after its own deal is deleted the lead shows the live phone-linked deal');

select * from finish();
rollback;
