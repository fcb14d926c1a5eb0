-- Shapes amoCRM documents with less in them than the apply steps used to read.
--   * A lead in the trash (GET /api/v4/leads?with=only_deleted) carries only id, updated_at, updated_by and
--     is_deleted = true (amoCRM's leads API page): it marks the deal deleted and leaves its stage and price alone.
--   * A lead_added event carries value_after [{note: {id}}] (amoCRM's events page), not the stage: the stage the
--     deal was created in comes from its first later reported move, or its current stage if it never moved.
--   * A stage move's status and update hooks may travel apart (undocumented); when only the update arrives,
--     history gets the move as a guess until the status hook or the Events API reports it.
begin;
select plan(16);

select tests.create_account('Documented shapes agency') as acc \gset
select tests.seed_pipelines(:'acc');

create function pg_temp.trash(p_id bigint, p_updated bigint) returns jsonb language sql as $$
  select jsonb_build_object('id', p_id, 'updated_at', p_updated, 'updated_by', 7, 'is_deleted', true,
    '_links', jsonb_build_object('self', jsonb_build_object('href', 'https://x.amocrm.ru/api/v4/leads/' || p_id)))
$$;
create function pg_temp.added(p_deal bigint, p_at bigint) returns jsonb language sql as $$
  select jsonb_build_object('id', 'add' || p_deal, 'type', 'lead_added', 'entity_id', p_deal, 'entity_type', 'lead',
    'created_by', 1, 'created_at', p_at, 'value_before', '[]'::jsonb,
    'value_after', jsonb_build_array(jsonb_build_object('note', jsonb_build_object('id', 5550000 + p_deal))))
$$;
create function pg_temp.moved(p_deal bigint, p_at bigint, p_from integer, p_to integer) returns jsonb language sql as $$
  select jsonb_build_object('id', 'ev' || p_deal || '-' || p_at, 'type', 'lead_status_changed', 'entity_id', p_deal,
    'entity_type', 'lead', 'created_by', 1, 'created_at', p_at,
    'value_before', jsonb_build_array(jsonb_build_object('lead_status', jsonb_build_object('id', p_from, 'pipeline_id', 100))),
    'value_after', jsonb_build_array(jsonb_build_object('lead_status', jsonb_build_object('id', p_to, 'pipeline_id', 100))))
$$;
create function pg_temp.history(p_acc uuid, p_deal bigint) returns text language sql stable as $$
  select string_agg(concat_ws('>', h.from_status_id, h.to_status_id, extract(epoch from h.changed_at)::bigint, h.source),
    ' ; ' order by h.changed_at)
  from public.amocrm_lead_status_history h where h.user_account_id = p_acc and h.amocrm_lead_id = p_deal
$$;

-- 9101: won and paid, then deleted with the delete webhook lost; reconcile reads it from the trash.
select private.apply_deal_snapshot(:'acc', jsonb_build_object('id', 9101, 'name', 'Won', 'price', 7000, 'status_id', 142,
  'pipeline_id', 100, 'created_at', 1700000000, 'updated_at', 1700000100, 'closed_at', 1700000100, 'is_deleted', false));
select is((select status from public.sales where user_account_id = :'acc' and amocrm_deal_id = 9101), 'paid',
  'before: the won deal is a paid sale');
select is(private.apply_deal_snapshot(:'acc', pg_temp.trash(9101, 1700000200)), 'applied',
  'a docs-shaped trash lead applies');
select results_eq(format($$select is_deleted, pipeline_id, status_id, price::int,
    extract(epoch from amocrm_updated_at)::bigint from public.amocrm_deals
  where user_account_id = %L and amocrm_lead_id = 9101$$, :'acc'),
  $$values (true, 100, 142, 7000, 1700000100::bigint)$$,
  'it is deleted; stage, price and state order stay as they were');
select is((select status from public.sales where user_account_id = :'acc' and amocrm_deal_id = 9101), 'cancelled',
  'its sale is cancelled');
select is(private.apply_deal_snapshot(:'acc', pg_temp.trash(9101, 1700000200)), 'stale', 'the same read again changes nothing');

-- 9102: never seen alive, only in the trash.
select is(private.apply_deal_snapshot(:'acc', pg_temp.trash(9102, 1700000300)), 'applied', 'an unknown trash lead applies');
select results_eq(format($$select is_deleted, status_id from public.amocrm_deals
  where user_account_id = %L and amocrm_lead_id = 9102$$, :'acc'),
  $$values (true, null::integer)$$, 'the deal is known as deleted, with no stage invented');

-- A stage-less snapshot that does not say it is deleted is not a trash lead: refused.
select throws_ok(format($$select private.apply_deal_snapshot(%L, '{"id": 9109, "updated_at": 1700000000}'::jsonb)$$, :'acc'),
  '22023', null, 'a live lead without status_id/pipeline_id is refused');

-- 9103: created in 10 (add webhook lost), moved 10→20 at 200 (lost too); the Events API has both.
select private.apply_deal_snapshot(:'acc', jsonb_build_object('id', 9103, 'name', 'D', 'price', 0, 'status_id', 20,
  'pipeline_id', 100, 'created_at', 1700000100, 'updated_at', 1700000200, 'is_deleted', false));
select private.apply_status_change_event(:'acc', pg_temp.moved(9103, 1700000200, 10, 20));
select is(private.apply_status_change_event(:'acc', pg_temp.added(9103, 1700000100)), 'inserted',
  'lead_added with a note is not ignored');
select is(pg_temp.history(:'acc', 9103), '10>1700000100>events_api ; 10>20>1700000200>events_api',
  'it was created in the stage its first move left from, at the event''s time');

-- 9104: created in 20 and never moved; the snapshot guessed "entered 20 at updated_at".
select private.apply_deal_snapshot(:'acc', jsonb_build_object('id', 9104, 'name', 'D', 'price', 0, 'status_id', 20,
  'pipeline_id', 100, 'created_at', 1700000100, 'updated_at', 1700000150, 'is_deleted', false));
select private.apply_status_change_event(:'acc', pg_temp.added(9104, 1700000100));
select is(pg_temp.history(:'acc', 9104), '20>1700000100>events_api',
  'a deal that never moved was created in its current stage; the guess is gone');

-- 9105: the add webhook arrived (10), the move to 20 was lost, a snapshot guessed 10→20 at its real time, and
-- the Events API confirms that guess: it counts as a reported move for lead_added.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 9105, 1700000100, 10, 100)));
select private.apply_deal_snapshot(:'acc', jsonb_build_object('id', 9105, 'name', 'D', 'price', 0, 'status_id', 20,
  'pipeline_id', 100, 'created_at', 1700000000, 'updated_at', 1700000300, 'is_deleted', false));
select private.apply_status_change_event(:'acc', pg_temp.moved(9105, 1700000300, 10, 20));
select is(private.apply_status_change_event(:'acc', pg_temp.added(9105, 1700000000)), 'unchanged',
  'lead_added finds the webhook''s initial row');
select is(pg_temp.history(:'acc', 9105), '10>1700000000>webhook ; 10>20>1700000300>events_api',
  'the confirmed guess is an events_api row; no stray initial stage');

-- 9106: created in 10; moved to the qualified 30 at 200 — the status hook is lost, the update hook arrives.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 9106, 1700000100, 10, 100)));
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('update', 9106, 1700000200, 30, 100)));
select is(pg_temp.history(:'acc', 9106), '10>1700000000>webhook ; 10>30>1700000200>api',
  'the update hook''s stage change is in history as a guess at its time');
select is((select is_qualified from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 9106), true,
  'so the deal is qualified without waiting for reconcile');
-- The status hook turns up after all (it was only late): the guess becomes its report.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 9106, 1700000200, 30, 100, 0, 10)));
select is(pg_temp.history(:'acc', 9106), '10>1700000000>webhook ; 10>30>1700000200>webhook',
  'one row, now reported by the status hook');

select * from finish();
rollback;
