-- Applying webhook events: state, history with pipelines, qualification, attribution, delete/restore,
-- redelivery, and quarantine of a bad event without losing the rest of its POST.
begin;
select plan(31);

select tests.create_account('Apply agency') as acc \gset
select tests.seed_pipelines(:'acc');
-- Created before the deals below (amoCRM created_at 1700000000): a deal is credited by phone only to a lead
-- that existed when the deal was created.
insert into public.leads (user_account_id, amocrm_lead_id, phone, created_at)
values (:'acc', 5001, '+7 912 111-22-33', '2023-11-01Z')
returning id as lead_id \gset

-- add: the deal appears, is linked to the product lead by amocrm_lead_id, history gets its first row.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 5001, 1700000100, 10, 100)));
select results_eq(
  format('select lead_id, attribution, pipeline_id, status_id from public.amocrm_deals where user_account_id = %L', :'acc'),
  format($$values (%s::bigint, 'amocrm_lead_id'::text, 100, 10)$$, :lead_id),
  'add_lead creates the deal linked to the product lead');
select results_eq(
  format('select current_pipeline_id, current_status_id, is_qualified from public.leads where id = %s', :lead_id),
  $$values (100, 10, false)$$, 'the product lead shows the deal''s stage');
select results_eq(
  format('select from_status_id, to_status_id, to_pipeline_id, changed_at from public.amocrm_lead_status_history where amocrm_lead_id = 5001 and user_account_id = %L', :'acc'),
  $$values (null::integer, 10, 100, to_timestamp(1700000000))$$, 'add_lead writes the first history row at amoCRM''s creation time');

-- status → the qualified stage: qualified; the change is in history with amoCRM's time, not receipt time.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 5001, 1700000200, 30, 100, 0, 10)));
select is((select is_qualified from public.leads where id = :lead_id), true, 'reaching the qualified stage qualifies the lead');
select is((select changed_at from public.amocrm_lead_status_history where amocrm_lead_id = 5001 and to_status_id = 30),
  to_timestamp(1700000200), 'history keeps amoCRM''s event time');
select is((select from_pipeline_id from public.amocrm_lead_status_history where amocrm_lead_id = 5001 and to_status_id = 30),
  100, 'the old pipeline comes from the stage catalog (account webhooks do not carry it)');

-- moving back and losing keep the qualification.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 5001, 1700000300, 20, 100, 0, 30)));
select is((select is_qualified from public.leads where id = :lead_id), true, 'moving back keeps the lead qualified');
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 5001, 1700000400, 143, 100, 0, 20)));
select results_eq(format('select current_status_id, is_qualified from public.leads where id = %s', :lead_id),
  $$values (143, true)$$, 'a lost lead that was qualified stays qualified');

-- a stale event (older than the stored state) never overwrites it but still lands in history.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 5001, 1700000250, 40, 100, 30)));
select is((select status_id from public.amocrm_deals where amocrm_lead_id = 5001), 143, 'a late older event does not overwrite newer state');
select is((select count(*) from public.amocrm_lead_status_history where amocrm_lead_id = 5001), 5::bigint,
  'the late transition is still recorded in history');

-- redelivery is a no-op.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 5001, 1700000400, 143, 100, 0, 20)));
select is((select count(*) from amocrm.webhook_events where user_account_id = :'acc' and amocrm_id = 5001
  and action = 'status' and amocrm_ts = 1700000400), 1::bigint, 'a redelivered event is stored once');
select is((select count(*) from public.amocrm_lead_status_history where amocrm_lead_id = 5001), 5::bigint,
  'a redelivered event adds no history');

-- skipping a stage: passing the qualified stage counts too.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 5002, 1700000100, 10, 100)));
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 5002, 1700000200, 40, 100, 0, 10)));
select is((select is_qualified from public.amocrm_deals where amocrm_lead_id = 5002), true, 'jumping past the qualified stage qualifies');

-- won qualifies even in a pipeline without a flagged stage, and asks the API to confirm.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 5003, 1700000100, 210, 200)));
select is((select is_qualified from public.amocrm_deals where amocrm_lead_id = 5003), false, 'an early stage is not qualified');
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 5003, 1700000200, 142, 200, 900, 210)));
select is((select is_qualified from public.amocrm_deals where amocrm_lead_id = 5003), true, 'a won deal is qualified');
select ok((select payload -> 'ids' @> '[5003]' from amocrm.jobs where user_account_id = :'acc' and kind = 'confirm_deals' and state = 'queued'),
  'a won event queues an API confirmation');

-- moving between pipelines: from/to pipeline both recorded.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 5002, 1700000300, 210, 200, 0, 40)));
select results_eq('select from_pipeline_id, from_status_id, to_pipeline_id, to_status_id from public.amocrm_lead_status_history where amocrm_lead_id = 5002 and to_status_id = 210',
  $$values (100, 40, 200, 210)$$, 'a move between pipelines records both pipelines');

-- delete, then a late update: stays deleted; restore undoes it.
select tests.deliver(:'acc', jsonb_build_array(jsonb_build_object('entity', 'lead', 'action', 'delete', 'amocrm_id', 5002,
  'amocrm_ts', 0, 'payload', jsonb_build_object('id', '5002', 'status_id', '210', 'pipeline_id', '200'))));
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('update', 5002, 1700000350, 220, 200)));
select is((select is_deleted from public.amocrm_deals where amocrm_lead_id = 5002), true, 'a late update does not resurrect a deleted deal');
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('restore', 5002, 1700000500, 220, 200)));
select is((select is_deleted from public.amocrm_deals where amocrm_lead_id = 5002), false, 'restore undoes the delete');

-- a deal the product did not create is kept, unattributed, until its contact's phone matches a lead.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 7001, 1700000100, 10, 100)));
select is((select lead_id from public.amocrm_deals where amocrm_lead_id = 7001), null, 'a manager-opened deal starts unattributed');
select tests.deliver(:'acc', jsonb_build_array(jsonb_build_object('entity', 'contact', 'action', 'add', 'amocrm_id', 9001,
  'amocrm_ts', 1700000150, 'payload', jsonb_build_object('id', '9001', 'type', 'contact',
    'custom_fields', jsonb_build_array(jsonb_build_object('code', 'PHONE', 'values', jsonb_build_array(
      jsonb_build_object('value', '8 (912) 111-22-33', 'enum', '1')))),
    'linked_leads_id', jsonb_build_object('7001', jsonb_build_object('ID', '7001'))))));
select results_eq('select lead_id, attribution from public.amocrm_deals where amocrm_lead_id = 7001',
  format($$values (%s::bigint, 'phone'::text)$$, :lead_id), 'the contact''s phone links the deal to the product lead');

-- a bad event is quarantined with its reason; the rest of the POST still applies.
select tests.deliver(:'acc', jsonb_build_array(
  jsonb_build_object('entity', 'lead', 'action', 'explode', 'amocrm_id', 5004, 'amocrm_ts', 1700000100, 'payload', '{}'::jsonb),
  tests.lead_event('add', 5005, 1700000100, 10, 100)));
select results_eq($$select state, error like '%unsupported lead action%' from amocrm.webhook_events where amocrm_id = 5004$$,
  $$values ('quarantined'::text, true)$$, 'a bad event is quarantined with its reason');
select is((select status_id from public.amocrm_deals where amocrm_lead_id = 5005), 10, 'the good event of the same POST applied');

-- changing a stage flag recomputes from history in the same transaction.
update public.amocrm_pipeline_stages set is_qualified_stage = true where user_account_id = :'acc' and pipeline_id = 200 and status_id = 220;
select is((select is_qualified from public.amocrm_deals where amocrm_lead_id = 5002), true, 'flagging a passed stage qualifies the deal');
update public.amocrm_pipeline_stages set is_qualified_stage = false where user_account_id = :'acc' and pipeline_id = 100 and status_id = 30;
select is((select is_qualified from public.leads where id = :lead_id), false,
  'unflagging the only qualified stage recomputes the lead from history (it was never won)');

-- events without an amoCRM time: same content is a redelivery, other content is a new event, deletes always count.
create function pg_temp.dp_event(p_status integer) returns jsonb language sql as $$
  select jsonb_build_array(jsonb_build_object('entity', 'lead', 'action', 'status', 'amocrm_id', 5200, 'amocrm_ts', 0,
    'payload', jsonb_build_object('id', 5200, 'pipeline_id', 100, 'old_pipeline_id', 100, 'status_id', p_status)))
$$;
create function pg_temp.stored_events(p_action text) returns bigint language sql as $$
  select count(*) from amocrm.webhook_events where amocrm_id = 5200 and action = p_action
$$;
select tests.deliver(:'acc', pg_temp.dp_event(20));
select is(pg_temp.stored_events('status'), 1::bigint, 'a Digital Pipeline event (no amoCRM time) is stored');
select tests.deliver(:'acc', pg_temp.dp_event(20));
select is(pg_temp.stored_events('status'), 1::bigint, '... its redelivery is a no-op');
select tests.deliver(:'acc', pg_temp.dp_event(30));
select is(pg_temp.stored_events('status'), 2::bigint, '... a later move of the same lead is a new event, not a duplicate');

select tests.deliver(:'acc', jsonb_build_array(jsonb_build_object('entity', 'lead', 'action', 'delete', 'amocrm_id', 5200,
  'amocrm_ts', 0, 'payload', jsonb_build_object('id', '5200', 'status_id', '30', 'pipeline_id', '100'))))
from generate_series(1, 2);
select is(pg_temp.stored_events('delete'), 2::bigint,
  'a delete is never mistaken for a redelivery (delete, restore, delete again)');

-- the product stores the amoCRM id after the add_lead webhook arrived: the deal links at that moment.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 5100, 1700000100, 220, 200)));
insert into public.leads (user_account_id, amocrm_lead_id) values (:'acc', 5100) returning id as late_lead \gset
select results_eq(format('select lead_id, attribution from public.amocrm_deals where user_account_id = %L and amocrm_lead_id = 5100', :'acc'),
  format($$values (%s::bigint, 'amocrm_lead_id'::text)$$, :late_lead), 'a lead written after its webhook links to the deal');
select results_eq(format('select current_status_id, is_qualified from public.leads where id = %s', :late_lead),
  $$values (220, true)$$, '... and shows its stage and qualification at once');

select * from finish();
rollback;
