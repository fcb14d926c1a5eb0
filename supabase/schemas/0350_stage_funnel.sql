-- The amoCRM pipeline as a funnel of product leads, and how long leads stay in each stage: dashboard tiles read
-- from the stage rollups (0341..0343), never from the history of every lead.
--   public.stage_funnel(account, pipeline, from, to, creative, direction)
--       per stage, in stage order (Unsorted first, then sort, then status id — the order
--       private.stage_order_key defines for qualification, written out here because the funnel runs as the
--       caller): leads_in_stage (there now), leads_entered (ever there), leads_reached (got this far: the
--       furthest open stage a lead was ever in is this one or later, or it was won — a won deal passed every
--       stage; for the lost stage, the leads that were lost), reached_rate (% of the pipeline's first stage) and
--       step_rate (% of the previous stage; null for lost)
--   public.stage_durations(account, pipeline, from, to, creative, direction)
--       per stage: completed visits (the deal entered and later left it), open visits (still there), avg hours
--       (exact) and median hours of the completed ones (the mean of the duration bucket holding the middle
--       visit: exact when that bucket's visits have one length, else within the bucket — at most 19 % wide
--       above an hour, see private.analytics_stage_bucket); a visit lasts from its transition into the stage
--       to the deal's next transition
--   public.pipeline_stage_funnel / public.pipeline_stage_durations   all-time views per visible account
-- Scope of both: product leads created on the local days from..to (inclusive, the account's analytics zone, as
-- the other funnel tiles), of the creative / direction when given; durations are the visits of those leads.
-- Each read = the rollup rows in scope + the not-yet-folded change of dirty leads (computed here from their
-- history), so a move is visible as soon as it commits. The scanning definitions are private.*_from_history.
-- security invoker: RLS of the rollups, leads, history and stages scopes them.
create or replace function private.stage_pending_parts(p_user_account_id uuid)
returns table (
  creative_id uuid, direction_id uuid, day date, pipeline_id integer, status_id integer, bucket smallint,
  in_stage integer, entered integer, furthest integer, open_visits integer, completed_visits integer,
  seconds_sum numeric
)
language sql
stable
set search_path = ''
set jit = off
as $$
  with dirty as materialized (
    select distinct d.lead_id from private.analytics_stage_dirty d where d.user_account_id = p_user_account_id
  )
  select c.creative_id, c.direction_id, c.day, p.pipeline_id, p.status_id, p.bucket, p.in_stage, p.entered,
    p.furthest, p.open_visits, p.completed_visits, p.seconds_sum
  from private.analytics_stage_contributions(array(select d.lead_id from dirty d)) c
  cross join lateral unnest(c.parts) p
  where c.user_account_id = p_user_account_id
  union all
  select s.creative_id, s.direction_id, s.day, p.pipeline_id, p.status_id, p.bucket, -p.in_stage, -p.entered,
    -p.furthest, -p.open_visits, -p.completed_visits, -p.seconds_sum
  from private.analytics_stage_leads s
  join dirty d on d.lead_id = s.lead_id
  cross join lateral unnest(s.parts) p
  where s.user_account_id = p_user_account_id
$$;
comment on function private.stage_pending_parts(uuid) is
  'The change not folded into the stage rollups yet: for each dirty lead of the account, its parts now minus the '
  'parts the rollups hold for it (with the lead''s key now / then). Runs as the caller.';
revoke all on function private.stage_pending_parts(uuid) from public;
grant execute on function private.stage_pending_parts(uuid) to authenticated, service_role;

-- Which duration rows a scope reads: account-wide rows without a creative/direction filter, per-creative ones
-- with it; the all-time row, or the lead days of the range. One branch per shape, so each is an index range
-- (a single query with "or" between the shapes scans every row of the account).
create or replace function private.stage_hist_rows(
  p_user_account_id uuid, p_pipeline_id integer, p_from date, p_to date, p_creative_id uuid, p_direction_id uuid
)
returns table (pipeline_id integer, status_id integer, bucket smallint, visits integer, seconds_sum numeric)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
begin
  if p_creative_id is null and p_direction_id is null then
    if p_from is null and p_to is null then
      return query
        select r.pipeline_id, r.status_id, r.bucket, r.visits, r.seconds_sum
        from private.analytics_stage_hist r
        where r.user_account_id = p_user_account_id and not r.per_creative
          and r.day = 'infinity'
          and (p_direction_id is null or r.direction_id = p_direction_id)
          and (p_pipeline_id is null or r.pipeline_id = p_pipeline_id);
    else
      return query
        select r.pipeline_id, r.status_id, r.bucket, r.visits, r.seconds_sum
        from private.analytics_stage_hist r
        where r.user_account_id = p_user_account_id and not r.per_creative
          and r.day >= coalesce(p_from, '-infinity') and r.day <= coalesce(p_to, 'infinity') and r.day < 'infinity'
          and (p_direction_id is null or r.direction_id = p_direction_id)
          and (p_pipeline_id is null or r.pipeline_id = p_pipeline_id);
    end if;
  elsif p_creative_id is not null then
    if p_from is null and p_to is null then
      return query
        select r.pipeline_id, r.status_id, r.bucket, r.visits, r.seconds_sum
        from private.analytics_stage_hist r
        where r.user_account_id = p_user_account_id and r.per_creative and r.creative_id = p_creative_id
          and r.day = 'infinity'
          and (p_direction_id is null or r.direction_id = p_direction_id)
          and (p_pipeline_id is null or r.pipeline_id = p_pipeline_id);
    else
      return query
        select r.pipeline_id, r.status_id, r.bucket, r.visits, r.seconds_sum
        from private.analytics_stage_hist r
        where r.user_account_id = p_user_account_id and r.per_creative and r.creative_id = p_creative_id
          and r.day >= coalesce(p_from, '-infinity') and r.day <= coalesce(p_to, 'infinity') and r.day < 'infinity'
          and (p_direction_id is null or r.direction_id = p_direction_id)
          and (p_pipeline_id is null or r.pipeline_id = p_pipeline_id);
    end if;
  elsif p_from is null and p_to is null then
    return query
      select r.pipeline_id, r.status_id, r.bucket, r.visits, r.seconds_sum
      from private.analytics_stage_hist r
      where r.user_account_id = p_user_account_id and r.per_creative and r.direction_id = p_direction_id
        and r.day = 'infinity'
        and (p_pipeline_id is null or r.pipeline_id = p_pipeline_id);
  else
    return query
      select r.pipeline_id, r.status_id, r.bucket, r.visits, r.seconds_sum
      from private.analytics_stage_hist r
      where r.user_account_id = p_user_account_id and r.per_creative and r.direction_id = p_direction_id
        and r.day >= coalesce(p_from, '-infinity') and r.day <= coalesce(p_to, 'infinity') and r.day < 'infinity'
        and (p_pipeline_id is null or r.pipeline_id = p_pipeline_id);
  end if;
end $$;
comment on function private.stage_hist_rows(uuid, integer, date, date, uuid, uuid) is
  'The completed-visit bucket rows a stage_durations scope reads (account-wide or per creative/direction, all '
  'time or lead days). Runs as the caller.';
revoke all on function private.stage_hist_rows(uuid, integer, date, date, uuid, uuid) from public;
grant execute on function private.stage_hist_rows(uuid, integer, date, date, uuid, uuid) to authenticated, service_role;

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
  with stages as materialized (
    select st.pipeline_id, st.pipeline_name, st.status_id, st.status_name, st.sort_order,
      coalesce(st.is_qualified_stage, false) as is_qualified_stage,
      array[case when st.status_type = 1 then 0 else 1 end, st.sort_order, st.status_id] as ord
    from public.amocrm_pipeline_stages st
    where st.user_account_id = p_user_account_id and (p_pipeline_id is null or st.pipeline_id = p_pipeline_id)
  ), counts as materialized (
    select c.pipeline_id, c.status_id, sum(c.in_stage) as in_stage, sum(c.entered) as entered,
      sum(c.furthest) as furthest
    from (
      select r.pipeline_id, r.status_id, r.in_stage, r.entered, r.furthest
      from private.analytics_stage_counts r
      where p_from is null and p_to is null
        and r.user_account_id = p_user_account_id and r.day = 'infinity'
        and (p_creative_id is null or r.creative_id = p_creative_id)
        and (p_direction_id is null or r.direction_id = p_direction_id)
      union all
      select r.pipeline_id, r.status_id, r.in_stage, r.entered, r.furthest
      from private.analytics_stage_counts r
      where (p_from is not null or p_to is not null)
        and r.user_account_id = p_user_account_id
        and r.day >= coalesce(p_from, '-infinity') and r.day <= coalesce(p_to, 'infinity') and r.day < 'infinity'
        and (p_creative_id is null or r.creative_id = p_creative_id)
        and (p_direction_id is null or r.direction_id = p_direction_id)
      union all
      select p.pipeline_id, p.status_id, p.in_stage, p.entered, p.furthest
      from private.stage_pending_parts(p_user_account_id) p
      where p.bucket = -1
        and p.day >= coalesce(p_from, '-infinity') and p.day <= coalesce(p_to, 'infinity')
        and (p_creative_id is null or p.creative_id = p_creative_id)
        and (p_direction_id is null or p.direction_id = p_direction_id)
    ) c
    group by 1, 2
  ), reached as (
    -- A lead whose furthest stage is T reached every stage up to T; a won lead reached them all.
    select st.pipeline_id, st.status_id,
      case when st.status_id = 143 then coalesce(max(c.entered) filter (where c.status_id = 143), 0)
        else coalesce(sum(c.furthest) filter (
          where (case when t.status_id = 142 then array[2, 0, 0] else t.ord end) >= st.ord), 0) end::bigint as n
    from stages st
    left join stages t on t.pipeline_id = st.pipeline_id
    left join counts c on c.pipeline_id = t.pipeline_id and c.status_id = t.status_id
    group by st.pipeline_id, st.status_id
  )
  select st.pipeline_id, st.pipeline_name, st.status_id, st.status_name, st.sort_order, st.is_qualified_stage,
    coalesce(c.in_stage, 0)::bigint, coalesce(c.entered, 0)::bigint, r.n,
    private.percent_of(r.n, first_value(r.n) over w),
    case when st.status_id = 143 then null else private.percent_of(r.n, lag(r.n) over w) end
  from stages st
  join reached r on r.pipeline_id = st.pipeline_id and r.status_id = st.status_id
  left join counts c on c.pipeline_id = st.pipeline_id and c.status_id = st.status_id
  window w as (partition by st.pipeline_id order by st.ord)
  order by st.pipeline_id, st.ord
$$;
comment on function public.stage_funnel(uuid, integer, date, date, uuid, uuid) is
  'Pipeline funnel of product leads created on the local days from..to (inclusive; optional pipeline, creative '
  'and direction filters): per stage in stage order leads_in_stage, leads_entered, leads_reached (this stage or '
  'further, wins pass every stage, lost counts only itself), reached_rate (% of first stage), step_rate '
  '(% of previous stage). Reads the stage rollups; runs as the caller.';
revoke all on function stage_funnel(uuid,integer,date,date,uuid,uuid) from public;
grant execute on function stage_funnel(uuid,integer,date,date,uuid,uuid) to authenticated;
grant execute on function stage_funnel(uuid,integer,date,date,uuid,uuid) to service_role;

create or replace function public.stage_durations(
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
  with pending as materialized (
    select * from private.stage_pending_parts(p_user_account_id) p
    where p.day >= coalesce(p_from, '-infinity') and p.day <= coalesce(p_to, 'infinity')
      and (p_creative_id is null or p.creative_id = p_creative_id)
      and (p_direction_id is null or p.direction_id = p_direction_id)
  ), buckets as materialized (
    select b.pipeline_id, b.status_id, b.bucket, sum(b.visits) as visits, sum(b.seconds_sum) as seconds_sum
    from (
      select r.pipeline_id, r.status_id, r.bucket, r.visits, r.seconds_sum
      from private.stage_hist_rows(p_user_account_id, p_pipeline_id, p_from, p_to, p_creative_id, p_direction_id) r
      union all
      select p.pipeline_id, p.status_id, p.bucket, p.completed_visits, p.seconds_sum
      from pending p where p.bucket >= 0
    ) b
    group by 1, 2, 3
    having sum(b.visits) <> 0
  ), open_visits as (
    select p.pipeline_id, p.status_id, sum(p.open_visits) as n
    from (
      select r.pipeline_id, r.status_id, r.open_visits
      from private.analytics_stage_counts r
      where p_from is null and p_to is null
        and r.user_account_id = p_user_account_id and r.day = 'infinity'
        and (p_creative_id is null or r.creative_id = p_creative_id)
        and (p_direction_id is null or r.direction_id = p_direction_id)
      union all
      select r.pipeline_id, r.status_id, r.open_visits
      from private.analytics_stage_counts r
      where (p_from is not null or p_to is not null)
        and r.user_account_id = p_user_account_id
        and r.day >= coalesce(p_from, '-infinity') and r.day <= coalesce(p_to, 'infinity') and r.day < 'infinity'
        and (p_creative_id is null or r.creative_id = p_creative_id)
        and (p_direction_id is null or r.direction_id = p_direction_id)
      union all
      select p.pipeline_id, p.status_id, p.open_visits from pending p where p.bucket = -1
    ) p
    group by 1, 2
  ), ranked as (
    select b.pipeline_id, b.status_id, b.visits, b.seconds_sum,
      sum(b.visits) over (partition by b.pipeline_id, b.status_id order by b.bucket) as upto,
      sum(b.visits) over (partition by b.pipeline_id, b.status_id) as total
    from buckets b
  ), median as (
    -- The middle visit(s) — position (n+1)/2, or n/2 and n/2+1 — each valued at the mean of its bucket: exact
    -- when a bucket's visits have one length, otherwise within that bucket.
    select r.pipeline_id, r.status_id, max(r.total) as total, sum(r.seconds_sum) as seconds_total,
      sum(r.seconds_sum::float8 / r.visits * (
        (r.upto - r.visits < k.k1 and k.k1 <= r.upto)::integer + (r.upto - r.visits < k.k2 and k.k2 <= r.upto)::integer
      )) / 2 as median_seconds
    from ranked r
    cross join lateral (select floor((r.total + 1) / 2.0) as k1, floor(r.total / 2.0) + 1 as k2) k
    group by r.pipeline_id, r.status_id
  )
  select st.pipeline_id, st.pipeline_name, st.status_id, st.status_name, st.sort_order,
    coalesce(m.total, 0)::bigint, coalesce(o.n, 0)::bigint,
    round((m.seconds_total / m.total / 3600.0)::numeric, 2),
    round((m.median_seconds / 3600.0)::numeric, 2)
  from public.amocrm_pipeline_stages st
  left join median m on m.pipeline_id = st.pipeline_id and m.status_id = st.status_id
  left join open_visits o on o.pipeline_id = st.pipeline_id and o.status_id = st.status_id
  where st.user_account_id = p_user_account_id and (p_pipeline_id is null or st.pipeline_id = p_pipeline_id)
  order by st.pipeline_id, case when st.status_type = 1 then 0 else 1 end, st.sort_order, st.status_id
$$;
comment on function public.stage_durations(uuid, integer, date, date, uuid, uuid) is
  'Time in stage of the product leads created on the local days from..to (inclusive; optional pipeline, '
  'creative, direction): per stage completed visits, visits still open, avg hours (exact) and median hours '
  '(within one duration bucket) of the completed ones. Reads the stage rollups; runs as the caller.';
revoke all on function stage_durations(uuid,integer,date,date,uuid,uuid) from public;
grant execute on function stage_durations(uuid,integer,date,date,uuid,uuid) to authenticated;
grant execute on function stage_durations(uuid,integer,date,date,uuid,uuid) to service_role;

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
