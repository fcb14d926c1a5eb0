-- The Events API pass removes a snapshot's guessed transition (source api) once the real one is known, but a
-- transition reported by a webhook is a fact: a real transition into the same stage never removes it.
begin;
select plan(2);

select tests.create_account('Webhook history agency') as acc \gset
select tests.seed_pipelines(:'acc');

-- A webhook reported 20 → 30 at t=300; the Events API reports an earlier 10 → 30 at t=200 (the exit from 30 in
-- between was never reported by anyone).
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 6701, 1700000100, 10, 100)));
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 6701, 1700000300, 30, 100, 0, 20)));
select is(private.apply_status_change_event(:'acc', jsonb_build_object('id', 'ev6701', 'type', 'lead_status_changed',
  'entity_id', 6701, 'entity_type', 'lead', 'created_by', 1, 'created_at', 1700000200,
  'value_before', jsonb_build_array(jsonb_build_object('lead_status', jsonb_build_object('id', 10, 'pipeline_id', 100))),
  'value_after', jsonb_build_array(jsonb_build_object('lead_status', jsonb_build_object('id', 30, 'pipeline_id', 100))))),
  'inserted', 'the Events API transition is recorded');
select results_eq(format($$select to_status_id, extract(epoch from changed_at)::bigint, source
    from public.amocrm_lead_status_history where user_account_id = %L and amocrm_lead_id = 6701 order by changed_at$$, :'acc'),
  $$values (10, 1700000000::bigint, 'webhook'::text), (30, 1700000200, 'events_api'), (30, 1700000300, 'webhook')$$,
  'the webhook''s transitions are all kept');

select * from finish();
rollback;
