-- A product lead can have several deals (its own, and manager-opened ones linked by phone). It is qualified when
-- any of them is, whichever deal it shows the stage of.
begin;
select plan(2);

select tests.create_account('Any deal agency') as acc \gset
select tests.seed_pipelines(:'acc');
-- Created before its deals (a deal is credited by phone only to a lead that existed when it was created).
insert into public.leads (user_account_id, amocrm_lead_id, phone, created_at) values (:'acc', 6801, '+7 912 555-68-01', '2023-11-01Z')
returning id as lead_id \gset

-- Its own deal stays in Talk (20); a phone-linked deal reaches Meeting (30, the flagged stage).
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 6801, 1700000100, 20, 100)));
select private.apply_deal_snapshot(:'acc', jsonb_build_object('id', 6802, 'name', 'Deal 6802', 'price', 0,
  'status_id', 30, 'pipeline_id', 100, 'created_at', 1700000500, 'updated_at', 1700000600, 'is_deleted', false),
  '8 (912) 555-68-01');
select results_eq(format('select lead_id, is_qualified from public.amocrm_deals where user_account_id = %L and amocrm_lead_id in (6801, 6802) order by amocrm_lead_id', :'acc'),
  format($$values (%1$s::bigint, false), (%1$s::bigint, true)$$, :lead_id), 'one of the lead''s two deals is qualified');
select results_eq(format('select current_status_id, is_qualified from public.leads where id = %s', :lead_id),
  $$values (20, true)$$, 'the lead shows its own deal''s stage and is qualified through the other deal');

select * from finish();
rollback;
