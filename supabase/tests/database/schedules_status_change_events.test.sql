-- Missed transitions from the Events API: each event becomes one history row with the real from/to and time;
-- a transition a webhook already recorded is not duplicated but its from is corrected; a snapshot's guessed
-- transition is replaced by the real one; qualification follows the recovered history.
begin;
select plan(12);

select tests.create_account('Events agency') as acc \gset
select tests.seed_pipelines(:'acc');

create or replace function pg_temp.status_event(p_deal bigint, p_at bigint, p_from integer, p_from_pipeline integer,
  p_to integer, p_to_pipeline integer)
returns jsonb language sql immutable as $$
  select jsonb_build_object('id', 'ev' || p_deal || '-' || p_at, 'type', 'lead_status_changed', 'entity_id', p_deal,
    'entity_type', 'lead', 'created_by', 1, 'created_at', p_at,
    'value_before', jsonb_build_array(jsonb_build_object('lead_status', jsonb_build_object('id', p_from, 'pipeline_id', p_from_pipeline))),
    'value_after', jsonb_build_array(jsonb_build_object('lead_status', jsonb_build_object('id', p_to, 'pipeline_id', p_to_pipeline))))
$$;
create or replace function pg_temp.history(p_acc uuid, p_deal bigint)
returns text language sql stable as $$
  select string_agg(concat_ws('>', h.from_pipeline_id, h.from_status_id, h.to_pipeline_id, h.to_status_id,
    extract(epoch from h.changed_at)::bigint, h.source), ' ; ' order by h.changed_at)
  from public.amocrm_lead_status_history h where h.user_account_id = p_acc and h.amocrm_lead_id = p_deal
$$;

-- Deal 9001: added at 10 (webhook); its moves 10→20 (t=200) and 20→30 (t=300) were lost, so a snapshot
-- (updated_at 400, after a later edit) found it in 30 and guessed 10→30 at 400.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 9001, 1700000100, 10, 100)));
select private.apply_deal_snapshot(:'acc', jsonb_build_object('id', 9001, 'name', 'Deal 9001', 'price', 0,
  'status_id', 30, 'pipeline_id', 100, 'created_at', 1700000000, 'updated_at', 1700000400, 'is_deleted', false));
select is(pg_temp.history(:'acc', 9001), '100>10>1700000000>webhook ; 100>10>100>30>1700000400>api',
  'before: the add and the snapshot''s guess');

select is(private.apply_status_change_event(:'acc', pg_temp.status_event(9001, 1700000200, 10, 100, 20, 100)),
  'inserted', 'a lost move is inserted');
select is(private.apply_status_change_event(:'acc', pg_temp.status_event(9001, 1700000300, 20, 100, 30, 100)),
  'inserted', 'the second lost move too');
select is(pg_temp.history(:'acc', 9001),
  '100>10>1700000000>webhook ; 100>10>100>20>1700000200>events_api ; 100>20>100>30>1700000300>events_api',
  'the guess is replaced by the real transitions, at their real times');
select is(private.apply_status_change_event(:'acc', pg_temp.status_event(9001, 1700000300, 20, 100, 30, 100)),
  'unchanged', 'the same event again changes nothing');

-- A transition recorded with a wrong "from" (a guess) at the same key is corrected, not duplicated.
insert into public.amocrm_lead_status_history (user_account_id, amocrm_lead_id, from_status_id, from_pipeline_id,
  to_status_id, to_pipeline_id, changed_at, source, event_key)
values (:'acc', 9002, 143, 100, 210, 200, to_timestamp(1700000500), 'webhook',
  private.transition_key(9002, 143, 200, 210, to_timestamp(1700000500)));
select is(private.apply_status_change_event(:'acc', pg_temp.status_event(9002, 1700000500, 143, 200, 210, 200)),
  'corrected', 'a known transition with a wrong from is corrected');
select results_eq(format($$select from_pipeline_id, source, count(*) over () from public.amocrm_lead_status_history
  where user_account_id = %L and amocrm_lead_id = 9002$$, :'acc'),
  $$values (200, 'events_api'::text, 1::bigint)$$, 'one row, with the real old pipeline');

-- Deal 9003 sits in 20 now (its move webhooks were lost, a snapshot found it there); only the Events API
-- knows it passed the qualified stage 30 before. (A webhook 30 → 20 would have said so itself: its "from" is
-- a stage the deal was in.)
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 9003, 1700000100, 10, 100)));
select private.apply_deal_snapshot(:'acc', jsonb_build_object('id', 9003, 'name', 'Deal 9003', 'price', 0,
  'status_id', 20, 'pipeline_id', 100, 'created_at', 1700000000, 'updated_at', 1700000300, 'is_deleted', false));
insert into public.leads (user_account_id, amocrm_lead_id) values (:'acc', 9003) returning id as lead_id \gset
select is((select is_qualified from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 9003), false,
  'before: not qualified');
select is(private.apply_status_change_event(:'acc', pg_temp.status_event(9003, 1700000200, 10, 100, 30, 100)),
  'inserted', 'the missed pass through the qualified stage is inserted');
select results_eq(format('select d.is_qualified, l.is_qualified from public.amocrm_deals d join public.leads l on l.id = d.lead_id where d.user_account_id = %L and d.amocrm_lead_id = 9003', :'acc'),
  $$values (true, true)$$, 'the deal and its product lead are qualified now');

-- lead_added gives the initial placement; other event types are not ours.
select is(private.apply_status_change_event(:'acc', jsonb_build_object('id', 'a1', 'type', 'lead_added', 'entity_id', 9004,
  'entity_type', 'lead', 'created_at', 1700000050, 'value_before', '[]'::jsonb,
  'value_after', jsonb_build_array(jsonb_build_object('lead_status', jsonb_build_object('id', 210, 'pipeline_id', 200))))),
  'inserted', 'lead_added records the initial placement');
select is(private.apply_status_change_event(:'acc', jsonb_build_object('id', 'd1', 'type', 'lead_deleted', 'entity_id', 9004,
  'entity_type', 'lead', 'created_at', 1700000060, 'value_before', '[]'::jsonb, 'value_after', '[]'::jsonb)),
  'ignored', 'other event types are ignored');

select * from finish();
rollback;
