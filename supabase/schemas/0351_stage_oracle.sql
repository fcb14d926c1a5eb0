-- The stage tiles computed by scanning the status history of every lead in scope: the definitions the rollups
-- are tested against (pgTAP, bench/analytics.ts), written independently of private.analytics_stage_contributions.
--   private.stage_funnel_from_history(account, pipeline, from, to, creative, direction)
--   private.stage_durations_from_history(account, pipeline, from, to, creative, direction)
-- Same columns and scope as public.stage_funnel / public.stage_durations; the median here is exact
-- (percentile_cont), the rollup's is within one duration bucket (private.analytics_stage_bucket).
create or replace function private.stage_scope_leads(
  p_user_account_id uuid, p_from date, p_to date, p_creative_id uuid, p_direction_id uuid
)
returns table (id bigint, current_pipeline_id integer, current_status_id integer)
language sql
stable
set search_path = ''
as $$
  select l.id::bigint, l.current_pipeline_id, l.current_status_id
  from public.leads l
  cross join (select private.analytics_time_zone_of_visible(p_user_account_id) as tz) z
  where l.user_account_id = p_user_account_id
    and private.analytics_day(l.created_at, z.tz) between coalesce(p_from, '-infinity') and coalesce(p_to, 'infinity')
    and (p_creative_id is null or l.creative_id = p_creative_id)
    and (p_direction_id is null or l.direction_id = p_direction_id)
$$;
comment on function private.stage_scope_leads(uuid, date, date, uuid, uuid) is
  'The product leads of a stage tile''s scope: created on local days from..to (inclusive, account zone), of the '
  'creative and direction when given. Oracle helper.';
revoke all on function private.stage_scope_leads(uuid, date, date, uuid, uuid) from public;
grant execute on function private.stage_scope_leads(uuid, date, date, uuid, uuid) to service_role;

create or replace function private.stage_funnel_from_history(
  p_user_account_id uuid,
  p_pipeline_id integer default null,
  p_from date default null,
  p_to date default null,
  p_creative_id uuid default null,
  p_direction_id uuid default null
)
returns table (
  pipeline_id integer, pipeline_name text, status_id integer, status_name text, sort_order integer,
  is_qualified_stage boolean, leads_in_stage bigint, leads_entered bigint, leads_reached bigint,
  reached_rate numeric, step_rate numeric
)
language sql
stable
set search_path = ''
as $$
  with scoped as materialized (
    select * from private.stage_scope_leads(p_user_account_id, p_from, p_to, p_creative_id, p_direction_id)
  ), stages as materialized (
    select st.pipeline_id, st.pipeline_name, st.status_id, st.status_name, st.sort_order,
      coalesce(st.is_qualified_stage, false) as is_qualified_stage,
      array[case when st.status_type = 1 then 0 else 1 end, st.sort_order, st.status_id] as ord
    from public.amocrm_pipeline_stages st
    where st.user_account_id = p_user_account_id and (p_pipeline_id is null or st.pipeline_id = p_pipeline_id)
  ), visits as materialized (
    select distinct v.lead_id, st.pipeline_id, st.status_id, st.ord
    from (
      select h.lead_id, x.pipeline_id, x.status_id
      from public.amocrm_lead_status_history h
      join scoped s on s.id = h.lead_id
      cross join lateral (values (h.to_pipeline_id, h.to_status_id), (h.from_pipeline_id, h.from_status_id))
        as x (pipeline_id, status_id)
      where h.user_account_id = p_user_account_id and x.status_id is not null
      union all
      select s.id, s.current_pipeline_id, s.current_status_id from scoped s where s.current_status_id is not null
    ) v
    join stages st on st.pipeline_id = v.pipeline_id and st.status_id = v.status_id
  ), entered as (
    select v.pipeline_id, v.status_id, count(*) as n from visits v group by 1, 2
  ), depth_counts as (
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
      case when st.status_id = 143 then coalesce(max(e.n), 0) else coalesce(sum(c.n), 0) end::bigint as n
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
comment on function private.stage_funnel_from_history(uuid, integer, date, date, uuid, uuid) is
  'public.stage_funnel computed by scanning the history of every lead in scope (the oracle of the rollups).';
revoke all on function private.stage_funnel_from_history(uuid, integer, date, date, uuid, uuid) from public;
grant execute on function private.stage_funnel_from_history(uuid, integer, date, date, uuid, uuid) to service_role;

create or replace function private.stage_durations_from_history(
  p_user_account_id uuid,
  p_pipeline_id integer default null,
  p_from date default null,
  p_to date default null,
  p_creative_id uuid default null,
  p_direction_id uuid default null
)
returns table (
  pipeline_id integer, pipeline_name text, status_id integer, status_name text, sort_order integer,
  completed_visits bigint, open_visits bigint, avg_hours numeric, median_hours numeric
)
language sql
stable
set search_path = ''
as $$
  with scoped as materialized (
    select * from private.stage_scope_leads(p_user_account_id, p_from, p_to, p_creative_id, p_direction_id)
  ), spans as (
    -- No pipeline filter here: a visit ends with the deal's next transition, whichever pipeline it goes to.
    select h.to_pipeline_id as pipeline_id, h.to_status_id as status_id,
      lead(h.changed_at) over w is null as still_there,
      extract(epoch from lead(h.changed_at) over w - h.changed_at) as seconds,
      extract(epoch from lead(h.changed_at) over w - h.changed_at) / 3600.0 as hours
    from public.amocrm_lead_status_history h
    join scoped s on s.id = h.lead_id
    where h.user_account_id = p_user_account_id
    -- Within one second, a stage the deal also left in that second comes before the one it stayed in.
    window w as (partition by h.lead_id, h.amocrm_lead_id order by h.changed_at,
      not exists (select 1 from public.amocrm_lead_status_history o
        where o.lead_id = h.lead_id and coalesce(o.amocrm_lead_id, -1) = coalesce(h.amocrm_lead_id, -1)
          and o.changed_at = h.changed_at and o.from_status_id = h.to_status_id),
      h.created_at, h.id)
  )
  select st.pipeline_id, st.pipeline_name, st.status_id, st.status_name, st.sort_order,
    count(sp.hours), count(*) filter (where sp.still_there),
    -- Mean of the exact seconds, then hours (dividing each visit first could round a .xx5 the other way).
    round((avg(sp.seconds) / 3600)::numeric, 2),
    round((percentile_cont(0.5) within group (order by sp.hours))::numeric, 2)
  from public.amocrm_pipeline_stages st
  left join spans sp on sp.pipeline_id = st.pipeline_id and sp.status_id = st.status_id
  where st.user_account_id = p_user_account_id and (p_pipeline_id is null or st.pipeline_id = p_pipeline_id)
  group by st.pipeline_id, st.pipeline_name, st.status_id, st.status_name, st.sort_order, st.status_type
  order by st.pipeline_id, case when st.status_type = 1 then 0 else 1 end, st.sort_order, st.status_id
$$;
comment on function private.stage_durations_from_history(uuid, integer, date, date, uuid, uuid) is
  'public.stage_durations computed by scanning the history of the leads in scope, with the exact median (the '
  'oracle of the rollups).';
revoke all on function private.stage_durations_from_history(uuid, integer, date, date, uuid, uuid) from public;
grant execute on function private.stage_durations_from_history(uuid, integer, date, date, uuid, uuid) to service_role;
