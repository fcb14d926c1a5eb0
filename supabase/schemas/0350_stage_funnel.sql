-- The amoCRM pipeline as a funnel of product leads, and how long leads stay in each stage, from the status
-- history (public.amocrm_lead_status_history) and the stage catalog (public.amocrm_pipeline_stages).
--   public.stage_funnel(account, pipeline, from, to, creative, direction)
--       per stage, in stage order (as amoCRM shows them: Unsorted first, then sort, then status id — the
--       order private.stage_order_key defines for qualification, written out here because the funnel runs
--       as the caller): leads_in_stage (there now), leads_entered (ever there), leads_reached (got this
--       far: the furthest open stage a lead was ever in is this one or later, or it was won — a won deal passed
--       every stage; for the lost stage, the leads that were lost), reached_rate (% of the pipeline's first
--       stage) and step_rate (% of the previous stage; null for lost)
--   public.stage_durations(account, pipeline, from, to)
--       per stage: completed visits (the deal entered and later left it), open visits (still there), avg and
--       median hours of the completed ones; a visit lasts from its transition into the stage to the deal's next
--       transition
--   public.pipeline_stage_funnel / public.pipeline_stage_durations   all-time views per visible account
-- Scope: product leads (history rows with a lead), created in the date range (UTC days, inclusive) for the
-- funnel; visits that started in the range for durations. Both read the history of the scoped leads directly,
-- so they cost O(history in scope): at 1M leads / 2.5M history rows (bench/analytics.ts) the funnel takes
-- 0.37 s for 30 days and 7.5 s for all time, durations 6 s for all time. Fine for a report, too slow for an
-- all-time dashboard tile; a trigger-kept per-lead stage rollup (like the funnel rollup) is the next step.
-- security invoker: RLS of leads, history and stages scopes them.
create or replace function public.stage_funnel(
  p_user_account_id uuid,
  p_pipeline_id integer default null,
  p_from date default null,
  p_to date default null,
  p_creative_id uuid default null,
  p_direction_id uuid default null
)
returns table (
  pipeline_id integer,
  pipeline_name text,
  status_id integer,
  status_name text,
  sort_order integer,
  is_qualified_stage boolean,
  leads_in_stage bigint,
  leads_entered bigint,
  leads_reached bigint,
  reached_rate numeric,
  step_rate numeric
)
language sql
stable
set search_path = ''
-- Short OLTP-style reads: JIT compilation (triggered by generic-plan cost estimates) only adds latency.
set jit = off
as $$
  with scoped as materialized (
    select l.id, l.current_pipeline_id, l.current_status_id
    from public.leads l
    where l.user_account_id = p_user_account_id
      and l.created_at >= (coalesce(p_from, '-infinity'::date)::timestamp at time zone 'UTC')
      and l.created_at < (case when p_to is null then 'infinity'::timestamp else (p_to + 1)::timestamp end at time zone 'UTC')
      and (p_creative_id is null or l.creative_id = p_creative_id)
      and (p_direction_id is null or l.direction_id = p_direction_id)
  ), stages as materialized (
    select st.pipeline_id, st.pipeline_name, st.status_id, st.status_name, st.sort_order,
      coalesce(st.is_qualified_stage, false) as is_qualified_stage,
      array[case when st.status_type = 1 then 0 else 1 end, st.sort_order, st.status_id] as ord
    from public.amocrm_pipeline_stages st
    where st.user_account_id = p_user_account_id and (p_pipeline_id is null or st.pipeline_id = p_pipeline_id)
  ), visits as materialized (
    -- Every (lead, stage) the lead has been in: transitions into it, out of it (the first stage of a deal
    -- created before tracking started only shows up as a "from"), and where it is now. One history scan.
    select distinct v.lead_id, st.pipeline_id, st.status_id, st.ord
    from (
      select h.lead_id, x.pipeline_id, x.status_id
      from public.amocrm_lead_status_history h
      join scoped s on s.id = h.lead_id
      cross join lateral (values (h.to_pipeline_id, h.to_status_id), (h.from_pipeline_id, h.from_status_id))
        as x (pipeline_id, status_id)
      where h.user_account_id = p_user_account_id and x.status_id is not null
      union all
      select s.id, s.current_pipeline_id, s.current_status_id
      from scoped s
      where s.current_status_id is not null
    ) v
    join stages st on st.pipeline_id = v.pipeline_id and st.status_id = v.status_id
  ), entered as (
    select v.pipeline_id, v.status_id, count(*) as n from visits v group by 1, 2
  ), depth_counts as (
    -- How far each lead got in each pipeline (a win passes every stage; lost, sorted last, passes nothing),
    -- then how many leads stopped at each depth.
    select d.pipeline_id, d.depth, count(*) as n
    from (
      select v.pipeline_id,
        case when bool_or(v.status_id = 142) then array[2, 0, 0]
          else max(v.ord) filter (where v.status_id <> 143) end as depth
      from visits v
      group by v.lead_id, v.pipeline_id
    ) d
    where d.depth is not null
    group by 1, 2
  ), reached as (
    select st.pipeline_id, st.status_id,
      case when st.status_id = 143 then coalesce(max(e.n), 0)
        else coalesce(sum(c.n), 0) end::bigint as n
    from stages st
    left join depth_counts c on c.pipeline_id = st.pipeline_id and c.depth >= st.ord and st.status_id <> 143
    left join entered e on e.pipeline_id = st.pipeline_id and e.status_id = st.status_id and st.status_id = 143
    group by st.pipeline_id, st.status_id
  ), in_stage as (
    select s.current_pipeline_id as pipeline_id, s.current_status_id as status_id, count(*) as n
    from scoped s group by 1, 2
  )
  select st.pipeline_id, st.pipeline_name, st.status_id, st.status_name, st.sort_order, st.is_qualified_stage,
    coalesce(i.n, 0), coalesce(e.n, 0), r.n,
    private.percent_of(r.n, first_value(r.n) over w),
    case when st.status_id = 143 then null else private.percent_of(r.n, lag(r.n) over w) end
  from stages st
  join reached r on r.pipeline_id = st.pipeline_id and r.status_id = st.status_id
  left join entered e on e.pipeline_id = st.pipeline_id and e.status_id = st.status_id
  left join in_stage i on i.pipeline_id = st.pipeline_id and i.status_id = st.status_id
  window w as (partition by st.pipeline_id order by st.ord)
  order by st.pipeline_id, st.ord
$$;
comment on function public.stage_funnel(uuid, integer, date, date, uuid, uuid) is
  'Pipeline funnel of product leads created in the range (UTC days, inclusive; optional pipeline, creative and '
  'direction filters): per stage in sort order leads_in_stage, leads_entered, leads_reached (this stage or '
  'further, wins pass every stage, lost counts only itself), reached_rate (% of first stage), step_rate '
  '(% of previous stage). Runs as the caller.';
revoke all on function stage_funnel(uuid,integer,date,date,uuid,uuid) from public;
grant execute on function stage_funnel(uuid,integer,date,date,uuid,uuid) to authenticated;
grant execute on function stage_funnel(uuid,integer,date,date,uuid,uuid) to service_role;

create or replace function public.stage_durations(
  p_user_account_id uuid,
  p_pipeline_id integer default null,
  p_from date default null,
  p_to date default null
)
returns table (
  pipeline_id integer,
  pipeline_name text,
  status_id integer,
  status_name text,
  sort_order integer,
  completed_visits bigint,
  open_visits bigint,
  avg_hours numeric,
  median_hours numeric
)
language sql
stable
set search_path = ''
set jit = off
as $$
  with history as (
    select h.to_pipeline_id as pipeline_id, h.to_status_id as status_id, h.changed_at,
      lead(h.changed_at) over (partition by h.amocrm_lead_id, h.lead_id order by h.changed_at, h.created_at) as left_at
    from public.amocrm_lead_status_history h
    -- No pipeline filter here: a visit ends with the deal's next transition, whichever pipeline it goes to.
    where h.user_account_id = p_user_account_id and h.lead_id is not null
  ), spans as (
    select h.pipeline_id, h.status_id, h.left_at is null as still_there,
      extract(epoch from (h.left_at - h.changed_at)) / 3600.0 as hours
    from history h
    where h.changed_at >= (coalesce(p_from, '-infinity'::date)::timestamp at time zone 'UTC')
      and h.changed_at < (case when p_to is null then 'infinity'::timestamp else (p_to + 1)::timestamp end at time zone 'UTC')
  )
  select st.pipeline_id, st.pipeline_name, st.status_id, st.status_name, st.sort_order,
    count(sp.hours), count(*) filter (where sp.still_there),
    round(avg(sp.hours)::numeric, 2),
    round((percentile_cont(0.5) within group (order by sp.hours))::numeric, 2)
  from public.amocrm_pipeline_stages st
  left join spans sp on sp.pipeline_id = st.pipeline_id and sp.status_id = st.status_id
  where st.user_account_id = p_user_account_id and (p_pipeline_id is null or st.pipeline_id = p_pipeline_id)
  group by st.pipeline_id, st.pipeline_name, st.status_id, st.status_name, st.sort_order, st.status_type
  order by st.pipeline_id, case when st.status_type = 1 then 0 else 1 end, st.sort_order, st.status_id
$$;
comment on function public.stage_durations(uuid, integer, date, date) is
  'Time in stage from the status history of product leads: per stage, completed visits (entered in the range, '
  'UTC days inclusive, and left since), visits still open, avg and median hours of the completed ones. Runs as '
  'the caller.';
revoke all on function stage_durations(uuid,integer,date,date) from public;
grant execute on function stage_durations(uuid,integer,date,date) to authenticated;
grant execute on function stage_durations(uuid,integer,date,date) to service_role;

create or replace view public.pipeline_stage_funnel with (security_invoker = true) as
select a.id as user_account_id, f.pipeline_id, f.pipeline_name, f.status_id, f.status_name, f.sort_order,
  f.is_qualified_stage, f.leads_in_stage, f.leads_entered, f.leads_reached, f.reached_rate, f.step_rate
from public.user_accounts a
cross join lateral public.stage_funnel(a.id) f;
comment on view public.pipeline_stage_funnel is
  'All-time pipeline funnel of product leads (see public.stage_funnel) for every account the caller belongs to.';

create or replace view public.pipeline_stage_durations with (security_invoker = true) as
select a.id as user_account_id, f.pipeline_id, f.pipeline_name, f.status_id, f.status_name, f.sort_order,
  f.completed_visits, f.open_visits, f.avg_hours, f.median_hours
from public.user_accounts a
cross join lateral public.stage_durations(a.id) f;
comment on view public.pipeline_stage_durations is
  'All-time time in stage (see public.stage_durations) for every account the caller belongs to.';

revoke all on public.pipeline_stage_funnel, public.pipeline_stage_durations from public, anon, authenticated;

grant select on public.pipeline_stage_funnel, public.pipeline_stage_durations to authenticated, service_role;
