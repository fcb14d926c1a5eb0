-- A robot's chain within one second (New → Talk → Meeting → Contract, all at 10:00:00, stored in one statement,
-- so created_at ties too, and with row ids in the wrong order): the deal stays in Contract, so that is the open
-- visit; Talk and Meeting were entered and left within the second (0 h visits). Before, the order within the
-- second followed the random row ids: the open visit landed on a stage nobody was in.
begin;
select plan(3);

select tests.create_account('Same-second chain') as acc \gset
select tests.seed_pipelines(:'acc');
insert into public.leads (user_account_id, created_at, current_pipeline_id, current_status_id)
values (:'acc', '2026-03-01', 100, 40) returning id as lead \gset
insert into public.amocrm_lead_status_history
  (id, user_account_id, lead_id, amocrm_lead_id, from_pipeline_id, from_status_id, to_pipeline_id, to_status_id, changed_at)
values
  ('00000000-0000-4000-8000-000000000001', :'acc', :'lead', 5001, 100, 30, 100, 40, '2026-03-01 10:00:00'),
  ('00000000-0000-4000-8000-000000000002', :'acc', :'lead', 5001, 100, 20, 100, 30, '2026-03-01 10:00:00'),
  ('00000000-0000-4000-8000-000000000003', :'acc', :'lead', 5001, 100, 10, 100, 20, '2026-03-01 10:00:00');

select results_eq(format('select status_id, completed_visits, open_visits from private.stage_durations_from_history(%L, 100) where status_id in (20, 30, 40)', :'acc'),
  $$values (20, 1::bigint, 0::bigint), (30, 1::bigint, 0::bigint), (40, 0::bigint, 1::bigint)$$,
  'the scan: the open visit is the chain''s end (Contract), Talk and Meeting were left within the second');
select results_eq(format('select status_id, completed_visits, open_visits from public.stage_durations(%L, 100) where status_id in (20, 30, 40)', :'acc'),
  $$values (20, 1::bigint, 0::bigint), (30, 1::bigint, 0::bigint), (40, 0::bigint, 1::bigint)$$,
  'the tile, not folded yet: the same');
select private.analytics_stage_fold(1000);
select results_eq(format('select status_id, completed_visits, open_visits from public.stage_durations(%L, 100) where status_id in (20, 30, 40)', :'acc'),
  $$values (20, 1::bigint, 0::bigint), (30, 1::bigint, 0::bigint), (40, 0::bigint, 1::bigint)$$,
  'the tile from the folded rollups: the same');

select * from finish();
rollback;
