-- The pipeline funnel and time in stage, from status history, on a hand-computed fixture.
-- Pipeline 100 (tests.seed_pipelines): New(10) → Talk(20) → Meeting(30) → Contract(40), Won(142), Lost(143).
--   l1: New 0h → Talk 2h → Meeting 6h → Contract 12h → Won 36h
--   l2: New 0h → Talk 4h → Meeting 10h → Lost 20h          (qualified, then lost)
--   l3: (New) → Talk 1h                                    (still in Talk; New known only as the "from")
--   l4: New 0h → Won 3h                                    (skipped stages: a win passes them all)
--   l5: no history, in New now                              (a different creative, created in February)
begin;
select plan(9);

select tests.create_user('stages-alice@example.com') as alice \gset
select tests.create_account('Stages agency', :'alice') as acc \gset
select tests.seed_pipelines(:'acc');
insert into public.creatives (user_account_id, name) values (:'acc', 'A') returning id as ca \gset
insert into public.creatives (user_account_id, name) values (:'acc', 'B') returning id as cb \gset

insert into public.leads (user_account_id, creative_id, created_at, current_pipeline_id, current_status_id) values
  (:'acc', :'ca', '2026-01-01', 100, 142), (:'acc', :'ca', '2026-01-01', 100, 143), (:'acc', :'ca', '2026-01-01', 100, 20),
  (:'acc', :'ca', '2026-01-01', 100, 142), (:'acc', :'cb', '2026-02-01', 100, 10);
create temp table l as
select id, row_number() over (order by id) as n from public.leads where user_account_id = :'acc';

insert into public.amocrm_lead_status_history
  (user_account_id, lead_id, amocrm_lead_id, from_pipeline_id, from_status_id, to_pipeline_id, to_status_id, changed_at)
select :'acc', l.id, 1000 + l.n, t.fp, t.fs, 100, t.ts, timestamptz '2026-01-01' + t.h * interval '1 hour'
from l
join (values
  (1, null, null, 10, 0), (1, 100, 10, 20, 2), (1, 100, 20, 30, 6), (1, 100, 30, 40, 12), (1, 100, 40, 142, 36),
  (2, null, null, 10, 0), (2, 100, 10, 20, 4), (2, 100, 20, 30, 10), (2, 100, 30, 143, 20),
  (3, 100, 10, 20, 1),
  (4, null, null, 10, 0), (4, 100, 10, 142, 3)
) as t (n, fp, fs, ts, h) on t.n = l.n;
-- A deal the product did not create: not a product lead, never counted.
insert into public.amocrm_lead_status_history (user_account_id, lead_id, amocrm_lead_id, to_pipeline_id, to_status_id, changed_at)
values (:'acc', null, 9999, 100, 40, '2026-01-01');

select tests.authenticate_as(:'alice');

select results_eq(format('select status_id, leads_in_stage, leads_entered, leads_reached, reached_rate, step_rate from public.stage_funnel(%L, 100)', :'acc'),
  $$values (10, 1::bigint, 5::bigint, 5::bigint, 100.00, null::numeric),
           (20, 1::bigint, 3::bigint, 4::bigint, 80.00, 80.00),
           (30, 0::bigint, 2::bigint, 3::bigint, 60.00, 75.00),
           (40, 0::bigint, 1::bigint, 2::bigint, 40.00, 66.67),
           (142, 2::bigint, 2::bigint, 2::bigint, 40.00, 100.00),
           (143, 1::bigint, 1::bigint, 1::bigint, 20.00, null::numeric)$$,
  'funnel: in stage now, ever entered, reached (a win passes every stage, lost passes nothing), rates');
select results_eq(format('select leads_entered, leads_reached from public.stage_funnel(%L, 100, null, null, %L) where status_id = 10', :'acc', :'ca'),
  $$values (4::bigint, 4::bigint)$$,
  'a stage known only as the "from" of a transition still counts as entered');
select results_eq(format('select status_id, leads_reached from public.stage_funnel(%L, 100, %L, %L)', :'acc', '2026-01-01', '2026-01-31'),
  $$values (10, 4::bigint), (20, 4::bigint), (30, 3::bigint), (40, 2::bigint), (142, 2::bigint), (143, 1::bigint)$$,
  'date range: only leads created in January');
select results_eq(format('select status_id, leads_reached from public.stage_funnel(%L, 100, null, null, %L)', :'acc', :'cb'),
  $$values (10, 1::bigint), (20, 0::bigint), (30, 0::bigint), (40, 0::bigint), (142, 0::bigint), (143, 0::bigint)$$,
  'creative filter');
select results_eq(format('select status_id, leads_reached, reached_rate from public.stage_funnel(%L, 200)', :'acc'),
  $$values (210, 0::bigint, null::numeric), (220, 0::bigint, null::numeric), (142, 0::bigint, null::numeric), (143, 0::bigint, null::numeric)$$,
  'an empty pipeline: zeros, rates null');

select results_eq(format('select status_id, completed_visits, open_visits, avg_hours, median_hours from public.stage_durations(%L, 100)', :'acc'),
  $$values (10, 3::bigint, 0::bigint, 3.00, 3.00),
           (20, 2::bigint, 1::bigint, 5.00, 5.00),
           (30, 2::bigint, 0::bigint, 8.00, 8.00),
           (40, 1::bigint, 0::bigint, 24.00, 24.00),
           (142, 0::bigint, 2::bigint, null::numeric, null::numeric),
           (143, 0::bigint, 1::bigint, null::numeric, null::numeric)$$,
  'time in stage: completed visits, open ones, avg and median hours (product leads only)');
select results_eq(format('select status_id, completed_visits, open_visits from public.stage_durations(%L, 100, %L, %L) where status_id in (10, 20)', :'acc', '2026-01-01', '2026-01-01'),
  $$values (10, 3::bigint, 0::bigint), (20, 2::bigint, 1::bigint)$$,
  'durations by the day the visit started');

select results_eq(format('select status_id, leads_reached from public.pipeline_stage_funnel where user_account_id = %L and pipeline_id = 100', :'acc'),
  format('select status_id, leads_reached from public.stage_funnel(%L, 100)', :'acc'),
  'pipeline_stage_funnel = stage_funnel for the account');
select results_eq(format('select status_id, avg_hours from public.pipeline_stage_durations where user_account_id = %L and pipeline_id = 100', :'acc'),
  format('select status_id, avg_hours from public.stage_durations(%L, 100)', :'acc'),
  'pipeline_stage_durations = stage_durations for the account');
select tests.clear_authentication();

select * from finish();
rollback;
