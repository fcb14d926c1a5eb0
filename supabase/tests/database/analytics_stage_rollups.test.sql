-- The stage rollups answer exactly what scanning the history answers: public.stage_funnel / stage_durations
-- against their scanning definitions (private.stage_funnel_from_history / stage_durations_from_history) on
-- generated data, after the load and after every kind of write the paths make (lead stage/bucket changes,
-- history inserts, corrections, unlinks, deletes, lead deletes, catalog changes) — each time twice: before the
-- fold (the tiles add the dirty leads' change themselves) and after it (rollup rows only). Counts and averages
-- must be equal; the median within its duration bucket (quarter-octaves of 1 + minutes: 19 %, + rounding).
begin;
select plan(25);

select setseed(0.16);
select tests.create_user('stage-rollups@example.com') as alice \gset
select tests.create_account('Stage rollups', :'alice') as acc \gset
select tests.create_account('Other account') as other \gset
select tests.seed_pipelines(:'acc');
select tests.seed_pipelines(:'other');
insert into public.creatives (user_account_id, name) values (:'acc', 'A') returning id as ca \gset
insert into public.creatives (user_account_id, name) values (:'acc', 'B') returning id as cb \gset
insert into public.directions (user_account_id, name) values (:'acc', 'D') returning id as da \gset

-- Filters every comparison runs with: all time, ranges, creative, direction, pipeline.
create temp table filters (p integer, d_from date, d_to date, creative uuid, direction uuid);
insert into filters values
  (null, null, null, null, null), (100, null, null, null, null), (200, null, null, null, null),
  (100, '2026-03-03', '2026-03-06', null, null), (null, '2026-03-01', '2026-03-01', null, null),
  (null, null, '2026-03-04', null, null), (null, '2026-03-05', null, null, null),
  (100, null, null, :'ca', null), (null, '2026-03-02', '2026-03-08', :'cb', null),
  (null, null, null, null, :'da'), (100, '2026-03-01', '2026-03-10', :'ca', :'da');

create function pg_temp.funnel_mismatches(p_acc uuid) returns bigint language sql as $$
  select count(*) from filters f cross join lateral (
    (select * from public.stage_funnel(p_acc, f.p, f.d_from, f.d_to, f.creative, f.direction)
     except all
     select * from private.stage_funnel_from_history(p_acc, f.p, f.d_from, f.d_to, f.creative, f.direction))
    union all
    (select * from private.stage_funnel_from_history(p_acc, f.p, f.d_from, f.d_to, f.creative, f.direction)
     except all
     select * from public.stage_funnel(p_acc, f.p, f.d_from, f.d_to, f.creative, f.direction))
  ) x
$$;
-- Durations: everything equal except the median, which must be within its bucket (+ 0.01 h of rounding).
create function pg_temp.duration_mismatches(p_acc uuid) returns bigint language sql as $$
  select count(*) from filters f cross join lateral (
    select 1
    from public.stage_durations(p_acc, f.p, f.d_from, f.d_to, f.creative, f.direction) n
    full join private.stage_durations_from_history(p_acc, f.p, f.d_from, f.d_to, f.creative, f.direction) o
      using (pipeline_id, status_id)
    where (n.sort_order, n.status_name, n.completed_visits, n.open_visits, n.avg_hours)
        is distinct from (o.sort_order, o.status_name, o.completed_visits, o.open_visits, o.avg_hours)
      or (n.median_hours is null) <> (o.median_hours is null)
      or abs(n.median_hours - o.median_hours) > 0.19 * 1.19 * (o.median_hours + 1 / 60.0) + 0.01
  ) x
$$;
-- Both read paths: first with the changes not folded (pending), then folded into the rollup rows.
create function pg_temp.check_both(p_acc uuid, p_what text) returns setof text language plpgsql as $$
begin
  return next is((select count(*) from private.analytics_stage_dirty where user_account_id = p_acc) > 0, true,
    p_what || ': there are changes not folded yet');
  return next is(pg_temp.funnel_mismatches(p_acc) + pg_temp.duration_mismatches(p_acc), 0::bigint,
    p_what || ', not folded: stage_funnel and stage_durations = the history scan, every filter');
  perform private.analytics_stage_fold(1000000);
  return next is(pg_temp.funnel_mismatches(p_acc) + pg_temp.duration_mismatches(p_acc)
      + (select count(*) from private.analytics_stage_dirty where user_account_id = p_acc), 0::bigint,
    p_what || ', folded: the same from rollup rows alone');
end $$;
-- How much the comparison covers (so an empty result cannot pass).
create function pg_temp.coverage(p_acc uuid) returns text language sql as $$
  select format('entered %s, reached %s, completed %s, open %s',
    (select sum(leads_entered) > 100 from private.stage_funnel_from_history(p_acc)),
    (select sum(leads_reached) > 100 from private.stage_funnel_from_history(p_acc)),
    (select sum(completed_visits) > 100 from private.stage_durations_from_history(p_acc)),
    (select sum(open_visits) > 50 from private.stage_durations_from_history(p_acc)))
$$;

-- 300 leads over 10 days; random paths over both pipelines, a stage the catalog does not know (99), moves
-- between pipelines, equal timestamps (ties), a first stage known only as a "from", unlinked history rows.
insert into public.leads (user_account_id, creative_id, direction_id, created_at)
select :'acc', (array[:'ca', :'cb', null]::uuid[])[1 + floor(random() * 3)::integer],
  (array[:'da', null]::uuid[])[1 + floor(random() * 2)::integer],
  timestamptz '2026-03-01' + floor(random() * 10) * interval '1 day' + random() * interval '20 hours'
from generate_series(1, 300);
create temp table codes as select array[100010, 100020, 100030, 100040, 100142, 100143, 200210, 200220, 200142,
  200143, 100099] as c;
insert into public.amocrm_lead_status_history
  (user_account_id, lead_id, amocrm_lead_id, from_pipeline_id, from_status_id, to_pipeline_id, to_status_id, changed_at)
select :'acc', case when random() < 0.05 then null else s.lead_id end, 1000 + s.lead_id,
  coalesce(lag(s.code) over w, s.first_from) / 1000, coalesce(lag(s.code) over w, s.first_from) % 1000,
  s.code / 1000, s.code % 1000,
  s.created_at + sum(s.gap) over w
from (
  select l.id as lead_id, l.created_at, g.k,
    (select c from codes)[1 + floor(random() * 11)::integer] as code,
    case when random() < 0.2 then 100010 end as first_from,
    floor(random() * 4) * floor(random() * 300) * 36 * interval '1 second' as gap
  from public.leads l
  cross join lateral generate_series(1, (l.id % 6)::integer) g (k)
  where l.user_account_id = :'acc'
) s
window w as (partition by s.lead_id order by s.k);
-- Where the leads are now: mostly the last stage of their history, some elsewhere.
update public.leads l set current_pipeline_id = x.code / 1000, current_status_id = x.code % 1000
from (
  select l2.id, coalesce(
    case when random() < 0.2 then (select c from codes)[1 + floor(random() * 11)::integer] end,
    (select h.to_pipeline_id * 1000 + h.to_status_id from public.amocrm_lead_status_history h
     where h.lead_id = l2.id order by h.changed_at desc, h.created_at desc, h.id desc limit 1)) as code
  from public.leads l2 where l2.user_account_id = :'acc'
) x
where x.id = l.id and x.code is not null;
-- A deal of the other account with the same deal ids must not leak in.
insert into public.leads (user_account_id, created_at, current_pipeline_id, current_status_id)
values (:'other', '2026-03-02', 100, 30) returning id as other_lead \gset
insert into public.amocrm_lead_status_history
  (user_account_id, lead_id, amocrm_lead_id, to_pipeline_id, to_status_id, changed_at)
values (:'other', :'other_lead', 1001, 100, 30, '2026-03-02 10:00');

select is(pg_temp.coverage(:'acc'), 'entered t, reached t, completed t, open t',
  'the generated data exercises every counter');
select pg_temp.check_both(:'acc', 'after the load');

-- Webhook-path writes, one statement each: stage moves with their history row, in both orders.
do $$
declare
  r record;
  v_code integer;
begin
  for r in select l.id, l.user_account_id from public.leads l
           where l.user_account_id = (select id from public.user_accounts where name = 'Stage rollups')
           order by md5(l.id::text) limit 60 loop
    v_code := (array[100020, 100030, 100142, 100143, 200220])[1 + floor(random() * 5)::integer];
    if random() < 0.5 then
      update public.leads set current_pipeline_id = v_code / 1000, current_status_id = v_code % 1000 where id = r.id;
    end if;
    insert into public.amocrm_lead_status_history
      (user_account_id, lead_id, amocrm_lead_id, from_pipeline_id, from_status_id, to_pipeline_id, to_status_id, changed_at)
    select r.user_account_id, r.id, 1000 + r.id, l.current_pipeline_id, l.current_status_id, v_code / 1000, v_code % 1000,
      timestamptz '2026-03-12' + random() * interval '3 days'
    from public.leads l where l.id = r.id;
    update public.leads set current_pipeline_id = v_code / 1000, current_status_id = v_code % 1000 where id = r.id;
  end loop;
end $$;
select pg_temp.check_both(:'acc', 'after single-event writes');

-- Corrections and repairs: a known "from" replaces a guess, rows move in time, get unlinked and relinked,
-- guessed rows are deleted; leads change creative, day and account-less; some leads are deleted.
update public.amocrm_lead_status_history set from_pipeline_id = 100, from_status_id = 40
where user_account_id = :'acc' and random() < 0.1;
update public.amocrm_lead_status_history set changed_at = changed_at + interval '5 hours'
where user_account_id = :'acc' and random() < 0.1;
update public.amocrm_lead_status_history set lead_id = null
where user_account_id = :'acc' and lead_id is not null and random() < 0.05;
update public.amocrm_lead_status_history h set lead_id = h.amocrm_lead_id - 1000
where h.user_account_id = :'acc' and h.lead_id is null and random() < 0.5
  and exists (select 1 from public.leads l where l.id = h.amocrm_lead_id - 1000);
delete from public.amocrm_lead_status_history where user_account_id = :'acc' and random() < 0.1;
update public.leads set creative_id = :'cb' where user_account_id = :'acc' and random() < 0.1;
update public.leads set created_at = created_at + interval '2 days' where user_account_id = :'acc' and random() < 0.1;
delete from public.leads where user_account_id = :'acc' and random() < 0.05;
select pg_temp.check_both(:'acc', 'after corrections, unlinks, relinks and deletes');

-- The catalog decides the furthest stage: reorder two stages, learn the unknown stage 99, drop one.
update public.amocrm_pipeline_stages set sort_order = case status_id when 20 then 30 else 20 end
where user_account_id = :'acc' and pipeline_id = 100 and status_id in (20, 30);
select pg_temp.check_both(:'acc', 'after two stages swapped places in stage order');
-- A sync that writes the same order again changes nothing.
update public.amocrm_pipeline_stages set sort_order = sort_order where user_account_id = :'acc';
select is((select count(*) from private.analytics_stage_dirty where user_account_id = :'acc'), 0::bigint,
  'rewriting the same stage order refolds nothing');
insert into public.amocrm_pipeline_stages (user_account_id, pipeline_id, pipeline_name, status_id, status_name, sort_order)
values (:'acc', 100, 'Sales', 99, 'Late', 35);
delete from public.amocrm_pipeline_stages where user_account_id = :'acc' and pipeline_id = 200 and status_id = 220;
select pg_temp.check_both(:'acc', 'after catalog changes (sort order, new and removed stages)');
select is(pg_temp.funnel_mismatches(:'other') + pg_temp.duration_mismatches(:'other'), 0::bigint,
  'the other account: equal (no leak between accounts)');
-- A new analytics time zone moves leads to other local days.
update public.user_accounts set analytics_timezone = 'Asia/Tokyo' where id = :'acc';
select is(pg_temp.funnel_mismatches(:'acc') + pg_temp.duration_mismatches(:'acc'), 0::bigint,
  'after a time zone change: equal on the new local days');

-- All-time rows are the daily rows summed; a rebuild from scratch gives the same rows.
select is((select count(*) from (
    select creative_id, direction_id, pipeline_id, status_id, sum(in_stage), sum(entered), sum(furthest), sum(open_visits)
    from private.analytics_stage_counts where user_account_id = :'acc' and day < 'infinity' group by 1, 2, 3, 4
    except
    select creative_id, direction_id, pipeline_id, status_id, in_stage::bigint, entered::bigint, furthest::bigint,
      open_visits::bigint
    from private.analytics_stage_counts where user_account_id = :'acc' and day = 'infinity') d), 0::bigint,
  'stage all-time rows = daily rows summed');
select is((select count(*) from (
    select per_creative, creative_id, direction_id, pipeline_id, status_id, bucket, sum(visits), sum(seconds_sum)
    from private.analytics_stage_hist where user_account_id = :'acc' and day < 'infinity' group by 1, 2, 3, 4, 5, 6
    except
    select per_creative, creative_id, direction_id, pipeline_id, status_id, bucket, visits::bigint, seconds_sum
    from private.analytics_stage_hist where user_account_id = :'acc' and day = 'infinity') d), 0::bigint,
  'duration all-time rows = daily rows summed');
create temp table before_rebuild as
select 'counts' as t, to_jsonb(d) - 'user_account_id' as r from private.analytics_stage_counts d
where user_account_id = :'acc' and (in_stage, entered, furthest, open_visits) <> (0, 0, 0, 0)
union all
select 'hist', to_jsonb(d) - 'user_account_id' from private.analytics_stage_hist d
where user_account_id = :'acc' and (visits, seconds_sum) <> (0, 0);
select private.analytics_stage_rebuild(:'acc');
create temp table after_rebuild as
select 'counts' as t, to_jsonb(d) - 'user_account_id' as r from private.analytics_stage_counts d
where user_account_id = :'acc' and (in_stage, entered, furthest, open_visits) <> (0, 0, 0, 0)
union all
select 'hist', to_jsonb(d) - 'user_account_id' from private.analytics_stage_hist d
where user_account_id = :'acc' and (visits, seconds_sum) <> (0, 0);
select is((select count(*) from ((table before_rebuild except all table after_rebuild)
    union all (table after_rebuild except all table before_rebuild)) x), 0::bigint,
  'the folded rollup rows equal a rebuild from scratch');
select is((select count(*) from before_rebuild) > 50, true, 'the rebuild comparison covers the rows');

-- Through RLS, as a member: the same numbers; an outsider sees none.
-- Some changes left unfolded, so the member's read adds them itself.
update public.leads set current_pipeline_id = 100, current_status_id = 40
where user_account_id = :'acc' and id % 7 = 0;
create temp table as_owner as
select to_jsonb(f) as r from public.stage_funnel(:'acc') f
union all select to_jsonb(d) from public.stage_durations(:'acc', null, '2026-03-02', '2026-03-09') d;
grant select on as_owner to authenticated;
select tests.authenticate_as(:'alice');
select results_eq(format($q$select to_jsonb(f) from public.stage_funnel(%L) f
    union all select to_jsonb(d) from public.stage_durations(%L, null, '2026-03-02', '2026-03-09') d$q$, :'acc', :'acc'),
  'select r from as_owner', 'a member reads the same numbers through RLS, unfolded changes included');
select is((select count(*) from public.stage_funnel(:'other')), 0::bigint, 'a member of A reads nothing of B');
select tests.clear_authentication();

select * from finish();
rollback;
