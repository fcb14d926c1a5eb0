-- Deletion is ordered by when it was observed: a delete/restore webhook's receipt, or the start of the API
-- read that saw the deal. Whatever order the observations are applied in, the newest one decides. The first
-- case is the race the e2e scenario hit: a won deal's confirmation read began, the manager deleted the deal,
-- the delete was applied, and only then the read — it must not bring the deal back with a paid sale.
begin;
select plan(12);

select tests.create_account('Deletion agency') as acc \gset
select tests.seed_pipelines(:'acc');
select set_config('tests.acc', :'acc', true);

create function pg_temp.won(p_id bigint, p_updated bigint, p_is_deleted boolean default false)
returns jsonb language sql as $$
  select jsonb_build_object('id', p_id, 'name', 'Deal', 'price', 5000, 'status_id', 142, 'pipeline_id', 100,
    'responsible_user_id', 1, 'created_at', 1700000000, 'updated_at', p_updated, 'closed_at', p_updated,
    'is_deleted', p_is_deleted)
$$;
create function pg_temp.lead_event(p_action text, p_id bigint, p_received_at timestamptz)
returns text language sql as $$
  select private.apply_lead_event(current_setting('tests.acc')::uuid, p_action, p_id, e.amocrm_ts, e.payload, p_received_at)
  from (select (x ->> 'amocrm_ts')::bigint as amocrm_ts, x -> 'payload' as payload
        from tests.lead_event(p_action, p_id, 1700000100, 142, 100, 5000) x) e
$$;
create function pg_temp.deal(p_id bigint)
returns table (is_deleted boolean, sale text) language sql as $$
  select d.is_deleted, (select s.status from public.sales s
                        where s.user_account_id = d.user_account_id and s.amocrm_deal_id = d.amocrm_lead_id)
  from public.amocrm_deals d where d.user_account_id = current_setting('tests.acc')::uuid and d.amocrm_lead_id = p_id
$$;

-- 7001: read at 10:00:01, delete received at 10:00:02 and applied, then the read applied.
select is(pg_temp.lead_event('delete', 7001, '2026-11-24 10:00:02+00'), 'deleted', 'the delete applies');
select is(private.apply_deal_snapshot(:'acc', pg_temp.won(7001, 1700000100), null, 'api', '2026-11-24 10:00:01+00'),
  'applied', 'the earlier read still brings the deal''s state');
select results_eq('select * from pg_temp.deal(7001)', $$values (true, null::text)$$,
  'a read begun before the delete arrived does not resurrect the deal, and no sale is paid');

-- 7002: won and paid; delete received, then a 204 from a read that began earlier: still deleted, cancelled.
select private.apply_deal_snapshot(:'acc', pg_temp.won(7002, 1700000100), null, 'api', '2026-11-24 10:00:00+00');
select pg_temp.lead_event('delete', 7002, '2026-11-24 10:00:05+00');
select private.mark_deal_missing(:'acc', 7002, '2026-11-24 10:00:03+00');
select results_eq('select * from pg_temp.deal(7002)', $$values (true, 'cancelled'::text)$$,
  'a deleted won deal''s sale is cancelled');

-- ... restored at 10:00:09; a 204 from a read begun at 10:00:08 (before the restore) does not delete it again.
select pg_temp.lead_event('restore', 7002, '2026-11-24 10:00:09+00');
select private.mark_deal_missing(:'acc', 7002, '2026-11-24 10:00:08+00');
select is((select is_deleted from pg_temp.deal(7002)), false, 'a read begun before the restore does not undo it');

-- ... the confirmation read after the restore pays the sale again.
select private.apply_deal_snapshot(:'acc', pg_temp.won(7002, 1700000100), null, 'api', '2026-11-24 10:00:10+00');
select results_eq('select * from pg_temp.deal(7002)', $$values (false, 'paid'::text)$$,
  'confirmed after the restore: paid again');

-- 7003: restore received at 10:00:21 applied before the delete received at 10:00:20 (two appliers).
select pg_temp.lead_event('add', 7003, '2026-11-24 10:00:19+00');
select pg_temp.lead_event('restore', 7003, '2026-11-24 10:00:21+00');
select is(pg_temp.lead_event('delete', 7003, '2026-11-24 10:00:20+00'), 'stale', 'a delete received before the restore is stale');
select is((select is_deleted from pg_temp.deal(7003)), false, '... and the deal stays restored');

-- 7004: a delete webhook was lost; a read (trash or 204) after the last observation deletes it, an
-- older-state read that began later still counts for deletion (deletion is not amoCRM-timed).
select private.apply_deal_snapshot(:'acc', pg_temp.won(7004, 1700000500), null, 'api', '2026-11-24 10:00:30+00');
select is(private.apply_deal_snapshot(:'acc', pg_temp.won(7004, 1700000400, true), null, 'api', '2026-11-24 10:00:31+00'),
  'applied', 'a later read from the trash changes the deal even with an older updated_at');
select results_eq('select * from pg_temp.deal(7004)', $$values (true, 'cancelled'::text)$$,
  'the trash read deletes the deal and cancels its sale');

-- 7005: restore webhook lost; the next read (alive, begun after the delete) restores the deal.
select pg_temp.lead_event('delete', 7005, '2026-11-24 10:00:40+00');
select private.apply_deal_snapshot(:'acc', pg_temp.won(7005, 1700000600), null, 'api', '2026-11-24 10:00:41+00');
select results_eq('select * from pg_temp.deal(7005)', $$values (false, 'paid'::text)$$,
  'a read begun after the delete that finds the deal alive restores it');

select ok((select count(*) = 0 from public.amocrm_deals where user_account_id = :'acc' and is_deleted and deleted_at is null),
  'every deleted deal has deleted_at');

select * from finish();
rollback;
