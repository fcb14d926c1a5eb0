-- Any delivery order, with duplicates, batched or one by one, converges to the state of in-order single
-- delivery: the deal's stage, price, deletion, qualification and its history (see tests.deal_fingerprint).
begin;
select plan(4);

-- One deal's life: created, worked, qualified, moved to another pipeline and back, won, price edited,
-- reopened; plus update events sharing the status events' timestamps, as amoCRM sends them.
create temporary table life (n integer, event jsonb) on commit drop;
insert into life values
  (1, tests.lead_event('add', 8001, 1700001000, 10, 100)),
  (2, tests.lead_event('status', 8001, 1700001100, 20, 100, 0, 10)),
  (3, tests.lead_event('update', 8001, 1700001100, 20, 100)),
  (4, tests.lead_event('status', 8001, 1700001200, 30, 100, 0, 20)),
  (5, tests.lead_event('update', 8001, 1700001300, 30, 100, 5000)),
  (6, tests.lead_event('status', 8001, 1700001400, 210, 200, 5000, 30)),
  (7, tests.lead_event('status', 8001, 1700001500, 40, 100, 5000, 210)),
  (8, tests.lead_event('status', 8001, 1700001600, 142, 100, 5000, 40)),
  (9, tests.lead_event('update', 8001, 1700001700, 142, 100, 6500)),
  (10, tests.lead_event('status', 8001, 1700001800, 20, 100, 6500, 142)),
  (11, tests.lead_event('update', 8001, 1700001800, 20, 100, 6500));
grant select on life to service_role;

-- In order, one POST per event: the reference.
select tests.create_account('In order') as ref \gset
select tests.seed_pipelines(:'ref');
select tests.deliver(:'ref', jsonb_build_array(event)) from life order by n;
select tests.deal_fingerprint(:'ref', 8001) as expected \gset

-- 30 seeded shuffles, each event delivered three times, one POST per event.
select setseed(0.42);
create temporary table shuffled_runs (run integer, fingerprint text) on commit drop;
do $$
declare
  run integer;
  acc uuid;
begin
  for run in 1..30 loop
    acc := tests.create_account('Shuffle ' || run);
    perform tests.seed_pipelines(acc);
    perform tests.deliver(acc, jsonb_build_array(e.event))
    from (select l.event from life l, generate_series(1, 3) copies order by random()) e;
    insert into shuffled_runs values (run, tests.deal_fingerprint(acc, 8001));
  end loop;
end $$;
select is((select count(distinct fingerprint) from shuffled_runs), 1::bigint,
  'every shuffled, triplicated delivery converges to one state');
select is((select min(fingerprint) from shuffled_runs), :'expected', '... and it is the in-order state');

-- Everything in one POST, reversed.
select tests.create_account('One POST') as batch \gset
select tests.seed_pipelines(:'batch');
select tests.deliver(:'batch', (select jsonb_agg(event order by n desc) from life));
select is(tests.deal_fingerprint(:'batch', 8001), :'expected', 'one POST with every event in reverse order converges too');

select is(:'expected'::text,
  '100,20,6500.00,f,t | 100>10>1700000000;100>10>100>20>1700001100;100>20>100>30>1700001200;100>30>200>210>1700001400;200>210>100>40>1700001500;100>40>100>142>1700001600;100>142>100>20>1700001800',
  'the reference state is the deal''s real life');

select * from finish();
rollback;
