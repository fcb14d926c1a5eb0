-- Pipeline sync over time: stages added, renamed and removed in amoCRM. The user's qualified flags survive
-- every sync, a vanished stage is archived (never deleted: history still points at it) and comes back when
-- amoCRM shows it again, and system statuses 142/143 are kept per pipeline.
begin;
select plan(10);

select tests.create_account('Sync agency') as acc \gset

create or replace function pg_temp.pipeline(p_id integer, p_name text, p_statuses jsonb)
returns jsonb language sql immutable as $$
  select jsonb_build_object('id', p_id, 'name', p_name, 'sort', 1,
    '_embedded', jsonb_build_object('statuses', (
      select jsonb_agg(jsonb_build_object('id', (s ->> 0)::int, 'name', s ->> 1, 'sort', (s ->> 2)::int,
        'pipeline_id', p_id, 'color', '#fff', 'type', 0))
      from jsonb_array_elements(p_statuses) s)))
$$;

select private.sync_pipeline_stages(:'acc', jsonb_build_array(pg_temp.pipeline(100, 'Sales',
  '[[10, "New", 10], [20, "Talk", 20], [30, "Meeting", 30], [142, "Won", 10000], [143, "Lost", 11000]]')));
update public.amocrm_pipeline_stages set is_qualified_stage = true
where user_account_id = :'acc' and pipeline_id = 100 and status_id = 30;
insert into public.amocrm_lead_status_history (user_account_id, amocrm_lead_id, to_status_id, to_pipeline_id, changed_at)
values (:'acc', 1, 20, 100, now());

-- amoCRM now: "Talk" removed, "Meeting" renamed, "Offer" added.
select is(private.sync_pipeline_stages(:'acc', jsonb_build_array(pg_temp.pipeline(100, 'Sales',
  '[[10, "New", 10], [30, "Demo meeting", 30], [35, "Offer", 35], [142, "Won", 10000], [143, "Lost", 11000]]'))),
  '{"stages": 5, "archived": 1}'::jsonb, 'the sync reports what it saw and archived');
select results_eq(format($$select status_name, is_qualified_stage, is_archived from public.amocrm_pipeline_stages
  where user_account_id = %L and status_id = 30$$, :'acc'),
  $$values ('Demo meeting'::text, true, false)$$, 'a renamed stage keeps its qualified flag');
select results_eq(format($$select status_name, is_qualified_stage, is_archived from public.amocrm_pipeline_stages
  where user_account_id = %L and status_id = 35$$, :'acc'),
  $$values ('Offer'::text, false, false)$$, 'a new stage arrives unflagged');
select results_eq(format($$select status_name, is_archived, archived_at is not null from public.amocrm_pipeline_stages
  where user_account_id = %L and status_id = 20$$, :'acc'),
  $$values ('Talk'::text, true, true)$$, 'a removed stage is archived, not deleted');
select is((select count(*) from public.amocrm_lead_status_history where user_account_id = :'acc' and to_status_id = 20),
  1::bigint, 'history into the removed stage is kept');
select is(private.stage_sort(:'acc', 100, 20), 20, 'an archived stage still sorts where it was (old history stays comparable)');

-- A second pipeline brings its own 142/143; the stage comes back in the first.
select private.sync_pipeline_stages(:'acc', jsonb_build_array(
  pg_temp.pipeline(100, 'Sales', '[[10, "New", 10], [20, "Talk again", 20], [30, "Demo meeting", 30], [35, "Offer", 35], [142, "Won", 10000], [143, "Lost", 11000]]'),
  pg_temp.pipeline(200, 'Upsell', '[[210, "Start", 10], [142, "Won", 10000], [143, "Lost", 11000]]')));
select results_eq(format($$select status_name, is_archived, archived_at from public.amocrm_pipeline_stages
  where user_account_id = %L and status_id = 20$$, :'acc'),
  $$values ('Talk again'::text, false, null::timestamptz)$$, 'a stage amoCRM shows again is un-archived');
select is((select count(*) from public.amocrm_pipeline_stages where user_account_id = :'acc' and status_id in (142, 143)),
  4::bigint, 'won/lost are kept once per pipeline');
select is((select is_qualified_stage from public.amocrm_pipeline_stages where user_account_id = :'acc' and status_id = 30),
  true, 'the flag survives a second sync');

-- The dashboard's button queues the sync for the worker.
select public.request_pipeline_sync(:'acc') as job \gset
select results_eq(format('select kind, state from amocrm.jobs where id = %s', :'job'),
  $$values ('sync_pipelines'::text, 'queued'::text)$$, 'request_pipeline_sync queues a sync_pipelines job');

select * from finish();
rollback;
