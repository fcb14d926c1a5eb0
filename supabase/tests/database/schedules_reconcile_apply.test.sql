-- Reconciliation's apply step: a page of API leads goes through apply_deal_snapshot; a deal counts as healed
-- only when its stored stage, price or deletion changed (or it was missing), one bad lead never blocks the
-- page, and the watermark comes from reconcile/backfill runs, never from webhook-written deals.
begin;
select plan(16);

select tests.create_account('Reconcile agency') as acc \gset
select tests.seed_pipelines(:'acc');

create or replace function pg_temp.lead(p_id bigint, p_status integer, p_price numeric, p_updated bigint,
  p_deleted boolean default false)
returns jsonb language sql immutable as $$
  select jsonb_build_object('id', p_id, 'name', 'Deal ' || p_id, 'price', p_price, 'status_id', p_status,
    'pipeline_id', 100, 'responsible_user_id', 1, 'created_at', 1700000000, 'updated_at', p_updated,
    'closed_at', null, 'is_deleted', p_deleted, '_embedded', jsonb_build_object('contacts', '[]'::jsonb))
$$;

-- A deal the webhooks never delivered.
select results_eq(
  format($$select deal_id, outcome from private.reconcile_deal_snapshots(%L, jsonb_build_array(pg_temp.lead(8001, 20, 500, 1700000500)))$$, :'acc'),
  $$values (8001::bigint, 'healed'::text)$$, 'a deal missing from the mirror is healed');
select results_eq(format('select status_id, price from public.amocrm_deals where user_account_id = %L and amocrm_lead_id = 8001', :'acc'),
  $$values (20, 500.00::numeric(14,2))$$, 'and stored with the API''s stage and price');

-- The same snapshot again: stale (nothing newer).
select results_eq(
  format($$select outcome from private.reconcile_deal_snapshots(%L, jsonb_build_array(pg_temp.lead(8001, 20, 500, 1700000500)))$$, :'acc'),
  $$values ('stale'::text)$$, 'reading the same state again is stale');

-- Webhooks delivered this state already: applied (the API wins ties) but nothing healed.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 8002, 1700000600, 10, 100, 0)));
select results_eq(
  format($$select outcome from private.reconcile_deal_snapshots(%L, jsonb_build_array(pg_temp.lead(8002, 10, 0, 1700000600)))$$, :'acc'),
  $$values ('applied'::text)$$, 'a state the webhooks delivered is applied, not healed');

-- A price change whose webhook was lost, and a deletion whose webhook was lost.
select results_eq(
  format($$select deal_id, outcome from private.reconcile_deal_snapshots(%L, jsonb_build_array(
    pg_temp.lead(8002, 10, 900, 1700000700), pg_temp.lead(8001, 20, 500, 1700000800, true)))$$, :'acc'),
  $$values (8001::bigint, 'healed'::text), (8002::bigint, 'healed'::text)$$,
  'a lost price change and a lost deletion are healed (in id order)');
select is((select is_deleted from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 8001), true,
  'the deletion is stored');

-- One bad lead in a page: reported, the rest applied.
select results_eq(
  format($$select deal_id, left(outcome, 6) from private.reconcile_deal_snapshots(%L, jsonb_build_array(
    pg_temp.lead(8003, 30, 100, 1700000900), jsonb_set(pg_temp.lead(8004, 30, 100, 1700000900), '{updated_at}', '"soon"')))$$, :'acc'),
  $$values (8003::bigint, 'healed'::text), (8004::bigint, 'error:'::text)$$, 'a bad lead is an error beside the others');
select is((select count(*) from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 8004), 0::bigint,
  'the bad lead left nothing behind');

-- A phone of the main contact links the deal to the product lead by phone.
-- (The lead predates the deal, created_at 1700000000: only such a lead is credited by phone.)
insert into public.leads (user_account_id, phone, created_at) values (:'acc', '+7 (912) 555-00-11', '2023-11-01Z')
returning id as lead_id \gset
select private.reconcile_deal_snapshots(:'acc', jsonb_build_array(
  jsonb_set(pg_temp.lead(8005, 20, 0, 1700001000), '{_embedded,contacts}', '[{"id": 77, "is_main": true}]')),
  '{"8005": "89125550011"}');
select results_eq(format('select lead_id, attribution, main_contact_id from public.amocrm_deals where user_account_id = %L and amocrm_lead_id = 8005', :'acc'),
  format($$values (%s::bigint, 'phone'::text, 77::bigint)$$, :lead_id), 'the main contact''s phone attributes the deal');

-- Watermark: webhook-written deals do not move it; finished runs do.
select is(private.reconcile_watermark(:'acc'), 0::bigint, 'without a reconcile or backfill run it reads everything');
select private.finish_sync_run(private.start_sync_run(:'acc', 'reconcile', '{"high_water": 1700005000}'));
select is(private.reconcile_watermark(:'acc'), 1700005000::bigint - 600, 'a finished run''s high-water minus 10 minutes');
select private.finish_sync_run(private.start_sync_run(:'acc', 'reconcile', '{"high_water": 1800000000}'), 'amoCRM 503');
select private.start_sync_run(:'acc', 'backfill', '{"high_water": 1900000000}');
select is(private.reconcile_high_water(:'acc'), 1700005000::bigint, 'failed and unfinished runs do not count');
select private.finish_sync_run(private.start_sync_run(:'acc', 'backfill', '{"high_water": 1700009000}'));
select is(private.reconcile_watermark(:'acc', interval '1 minute'), 1700009000::bigint - 60, 'a finished backfill counts');
select is(private.reconcile_events_high_water(:'acc'), 1700009000::bigint,
  'events start where a backfill''s scan ended (it reads no events itself)');
select private.finish_sync_run(private.start_sync_run(:'acc', 'reconcile',
  '{"high_water": 1700009500, "events_high_water": 1700009100}'));
select is(private.reconcile_events_high_water(:'acc'), 1700009100::bigint, 'and then from the events pass''s own mark');

select ok(not has_function_privilege('authenticated', 'private.reconcile_deal_snapshots(uuid, jsonb, jsonb, text, timestamptz)', 'execute'),
  'members cannot apply snapshots');

select * from finish();
rollback;
