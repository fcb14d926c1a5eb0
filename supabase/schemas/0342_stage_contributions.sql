-- What one product lead adds to the stage tiles, computed from its status history, its current stage and the
-- stage catalog. The fold stores it (private.analytics_stage_leads) and adds differences to the rollups; the
-- readers compute it for leads not folded yet. Both run this one definition, so they cannot disagree.
--   private.analytics_stage_bucket(seconds)          the duration bucket of a completed visit
--   private.analytics_stage_contributions(lead ids)  per lead: its bucket key (account, creative, direction, lead
--                                                    day) and its parts (private.analytics_stage_part)
-- The rules (the same as the scanning definitions in 0351, which the tests compare against):
--   visited   every (pipeline, status) the lead has been in: transitions into and out of it (the first stage of
--             a deal created before tracking only shows up as a "from") and where it is now
--   entered   1 per visited stage; in_stage 1 for the current stage
--   furthest  per pipeline, the stage the lead got furthest to: won if it was won (a win passes every stage),
--             else the visited stage latest in stage order (lost is never "further"); only catalog stages count
--   visits    one per history row, into its "to" stage, until the deal's next transition (by changed_at; within a
--             second the stages also left in it first; then created_at, row id; per amoCRM deal): open when
--             there is none, else completed with its length

create or replace function private.analytics_stage_bucket(p_seconds numeric)
returns smallint
language sql
immutable
parallel safe
set search_path = ''
as $$
  -- Quarter-octaves of (1 + minutes): bucket b holds 2^(b/4) <= 1 + minutes < 2^((b+1)/4), so above an hour a
  -- bucket is at most 19 % wide (2^(1/4)), below a minute at most 12 s. 95 = 2^24 minutes (32 years) and more.
  select least(95, floor(4 * ln(1 + greatest(p_seconds, 0)::float8 / 60) / ln(2.0)))::smallint
$$;
comment on function private.analytics_stage_bucket(numeric) is
  'Duration bucket of a completed stage visit: quarter-octaves of (1 + minutes), 0..95.';
revoke all on function private.analytics_stage_bucket(numeric) from public;
grant execute on function private.analytics_stage_bucket(numeric) to authenticated, service_role;

create or replace function private.analytics_time_zone_of_visible(p_user_account_id uuid)
returns text
-- plpgsql: its queries' plans are cached (a sql function is planned on every call, ~2 ms here).
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  -- GUARD: a member learns the zone of their own accounts only.
  if not private.caller_is_service() and not exists (
    select 1 from public.user_account_members m
    where m.user_account_id = p_user_account_id and m.user_id = (select auth.uid())
  ) then
    return null;
  end if;
  return (
    select coalesce(a.analytics_timezone, c.account_timezone, 'UTC')
    from public.user_accounts a
    left join amocrm.connections c on c.user_account_id = a.id
    where a.id = p_user_account_id);
end $$;
comment on function private.analytics_time_zone_of_visible(uuid) is
  'private.analytics_time_zone for the service and for members of the account; null for anyone else.';
revoke all on function private.analytics_time_zone_of_visible(uuid) from public;
grant execute on function private.analytics_time_zone_of_visible(uuid) to authenticated, service_role;

-- security invoker: the fold runs it as owner, readers as the member (RLS of leads, history and stages).
create or replace function private.analytics_stage_contributions(p_lead_ids bigint[])
returns table (
  lead_id bigint,
  user_account_id uuid,
  creative_id uuid,
  direction_id uuid,
  day date,
  parts private.analytics_stage_part[]
)
-- plpgsql with a generic plan: planned once per session (a sql function is planned again on every call, and a
-- custom plan each time costs as much as the work for a few leads).
language plpgsql
stable
set search_path = ''
set jit = off
set plan_cache_mode = force_generic_plan
as $$
begin
  return query

  with zones as materialized (
    -- One zone lookup per account, not per lead.
    select a.id, private.analytics_time_zone_of_visible(a.id) as tz
    from (select distinct l.user_account_id as id from public.leads l where l.id = any (p_lead_ids)) a
    where a.id is not null
  ), l as materialized (
    -- ::bigint: products that had leads before amo-roi may have an integer id.
    select l.id::bigint as id, l.user_account_id, l.creative_id, l.direction_id, l.current_pipeline_id,
      l.current_status_id, private.analytics_day(l.created_at, z.tz) as day
    from public.leads l
    join zones z on z.id = l.user_account_id
    where l.id = any (p_lead_ids)
  ), raw as materialized (
    select h.id, h.lead_id, coalesce(h.amocrm_lead_id, -1) as deal, h.from_pipeline_id, h.from_status_id,
      h.to_pipeline_id, h.to_status_id, h.changed_at, h.created_at
    from l
    join public.amocrm_lead_status_history h on h.lead_id = l.id and h.user_account_id = l.user_account_id
  ), left_in_second as (
    -- Stages a deal left within the second it entered them (a robot's chain, stored in any order): those
    -- visits come first in that second; the chain's end, the stage not left, comes last.
    select distinct r.lead_id, r.deal, r.changed_at, r.from_status_id as status_id
    from raw r where r.from_status_id is not null
  ), h as materialized (
    select r.lead_id, r.from_pipeline_id, r.from_status_id, r.to_pipeline_id, r.to_status_id,
      extract(epoch from lead(r.changed_at) over w - r.changed_at) as seconds,
      lead(r.id) over w is null as still_there
    from raw r
    left join left_in_second x
      on x.lead_id = r.lead_id and x.deal = r.deal and x.changed_at = r.changed_at and x.status_id = r.to_status_id
    window w as (partition by r.lead_id, r.deal order by r.changed_at, x.status_id is null, r.created_at, r.id)
  ), visited as (
    select distinct v.lead_id, v.pipeline_id, v.status_id
    from (
      select h.lead_id, h.to_pipeline_id as pipeline_id, h.to_status_id as status_id from h
      union all
      select h.lead_id, h.from_pipeline_id, h.from_status_id from h
      union all
      select l.id, l.current_pipeline_id, l.current_status_id from l
    ) v
    where v.pipeline_id is not null and v.status_id is not null
  ), furthest as (
    -- Per lead and pipeline, the catalog stage with the greatest depth (won above all, lost never).
    select distinct on (v.lead_id, v.pipeline_id) v.lead_id, v.pipeline_id, v.status_id
    from visited v
    join l on l.id = v.lead_id
    join public.amocrm_pipeline_stages st
      on st.user_account_id = l.user_account_id and st.pipeline_id = v.pipeline_id and st.status_id = v.status_id
    where v.status_id <> 143
    order by v.lead_id, v.pipeline_id, v.status_id = 142 desc,
      case when st.status_type = 1 then 0 else 1 end desc, st.sort_order desc, st.status_id desc
  ), parts as (
    select x.lead_id, x.pipeline_id, x.status_id, x.bucket,
      sum(x.in_stage)::integer as in_stage, sum(x.entered)::integer as entered, sum(x.furthest)::integer as furthest,
      sum(x.open_visits)::integer as open_visits, sum(x.completed_visits)::integer as completed_visits,
      sum(x.seconds_sum) as seconds_sum
    from (
      select v.lead_id, v.pipeline_id, v.status_id, -1::smallint as bucket,
        0 as in_stage, 1 as entered, 0 as furthest, 0 as open_visits, 0 as completed_visits, 0::numeric as seconds_sum
      from visited v
      union all
      select l.id, l.current_pipeline_id, l.current_status_id, -1::smallint, 1, 0, 0, 0, 0, 0
      from l where l.current_pipeline_id is not null and l.current_status_id is not null
      union all
      select f.lead_id, f.pipeline_id, f.status_id, -1::smallint, 0, 0, 1, 0, 0, 0 from furthest f
      union all
      select h.lead_id, h.to_pipeline_id, h.to_status_id,
        case when h.still_there then -1 else private.analytics_stage_bucket(h.seconds) end,
        0, 0, 0, h.still_there::integer, (not h.still_there)::integer,
        case when h.still_there then 0 else h.seconds end
      from h where h.to_pipeline_id is not null and h.to_status_id is not null
    ) x
    group by x.lead_id, x.pipeline_id, x.status_id, x.bucket
  )
  select l.id, l.user_account_id, l.creative_id, l.direction_id, l.day, coalesce(a.parts, '{}')
  from l
  left join (
    select p.lead_id,
      array_agg(row (p.pipeline_id, p.status_id, p.bucket, p.in_stage, p.entered, p.furthest, p.open_visits,
          p.completed_visits, p.seconds_sum)::private.analytics_stage_part
        order by p.pipeline_id, p.status_id, p.bucket) as parts
    from parts p
    group by p.lead_id
  ) a on a.lead_id = l.id;
end
$$;
comment on function private.analytics_stage_contributions(bigint[]) is
  'What each given product lead adds to the stage rollups: its key (account, creative, direction, local lead '
  'day) and its parts (stages in/entered/furthest, open visits, completed visits per duration bucket). Runs as '
  'the caller.';
revoke all on function private.analytics_stage_contributions(bigint[]) from public;
grant execute on function private.analytics_stage_contributions(bigint[]) to authenticated, service_role;
