-- Stage rollups (tables): what the stage funnel and time-in-stage tiles read instead of scanning the status
-- history of every lead (README, "Stage tiles: how they stay fast and exact").
--
-- Objects:
--   private.analytics_stage_part     one piece of a lead's contribution: a stage it is in / entered / got furthest
--                                    to / has an open visit in (bucket -1), or its completed visits of one
--                                    duration bucket (bucket >= 0)
--   private.analytics_stage_leads    per product lead: its contribution as the rollups hold it (what the fold
--                                    subtracts when the lead changes)
--   private.analytics_stage_dirty    leads whose contribution may have changed since the last fold (insert-only)
--   private.analytics_stage_counts   per (account, creative, direction, local lead day, pipeline, status): leads
--                                    in the stage now, entered, furthest there, open visits; day 'infinity' = all
--                                    time
--   private.analytics_stage_hist     completed visits per duration bucket, at two grains: per creative/direction
--                                    (per_creative) and per account, each per lead day and for all time
--
-- Write path: triggers on leads, status history and the stage catalog only append the lead id to
-- analytics_stage_dirty (no rollup row is locked by an applier, so appliers cannot deadlock on them); one fold at
-- a time (private.analytics_stage_fold) recomputes those leads and adds the differences. Readers add the
-- not-yet-folded difference of dirty leads themselves, so a change is visible the moment it commits.
create type private.analytics_stage_part as (
  pipeline_id integer,
  status_id integer,
  -- -1: the counters below except completed/seconds; >= 0: completed visits of that duration bucket.
  bucket smallint,
  in_stage integer,
  entered integer,
  furthest integer,
  open_visits integer,
  completed_visits integer,
  -- Exact (numeric): timestamps may carry microseconds.
  seconds_sum numeric
);

comment on type private.analytics_stage_part is
  'One piece of a lead''s stage contribution (see private.analytics_stage_contributions).';

create table private.analytics_stage_leads (
  lead_id bigint primary key,
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  creative_id uuid,
  direction_id uuid,
  day date not null,
  parts private.analytics_stage_part[] not null
);

comment on table private.analytics_stage_leads is
  'Each product lead''s stage contribution as the stage rollups hold it. No foreign key to leads on purpose: '
  'after a lead is deleted the fold still needs what to take back.';

create index analytics_stage_leads_user_account_id_idx on private.analytics_stage_leads (user_account_id);

create table private.analytics_stage_dirty (
  lead_id bigint not null,
  user_account_id uuid not null
);

comment on table private.analytics_stage_dirty is
  'Leads whose stage contribution may have changed and is not folded yet. Insert-only for writers (no key, '
  'so a writer never waits for another); the fold deletes what it folded.';

create index analytics_stage_dirty_user_account_id_idx on private.analytics_stage_dirty (user_account_id);

create table private.analytics_stage_counts (
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  creative_id uuid,
  direction_id uuid,
  -- The lead's local creation day; 'infinity' = the all-time row.
  day date not null,
  pipeline_id integer not null,
  status_id integer not null,
  in_stage integer not null default 0,
  entered integer not null default 0,
  furthest integer not null default 0,
  open_visits integer not null default 0,
  constraint analytics_stage_counts_key
    unique nulls not distinct (user_account_id, day, creative_id, direction_id, pipeline_id, status_id)
) with (fillfactor = 80);

comment on table private.analytics_stage_counts is
  'Stage funnel rollup per (account, lead day or all time, creative, direction, pipeline, status): leads there '
  'now, leads that entered, leads whose furthest stage it is, open visits. Written only by the fold.';

create table private.analytics_stage_hist (
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  -- false: the account-wide row (creative_id and direction_id null), read when no creative/direction filter.
  per_creative boolean not null,
  creative_id uuid,
  direction_id uuid,
  day date not null,
  pipeline_id integer not null,
  status_id integer not null,
  bucket smallint not null,
  visits integer not null default 0,
  seconds_sum numeric not null default 0,
  constraint analytics_stage_hist_key unique nulls not distinct
    (user_account_id, per_creative, day, creative_id, direction_id, pipeline_id, status_id, bucket)
) with (fillfactor = 80);

-- A creative's or a direction's rows without reading every creative's (the key leads with per_creative, day).
create index analytics_stage_hist_creative_idx on private.analytics_stage_hist (user_account_id, creative_id, day)
  where per_creative;

create index analytics_stage_hist_direction_idx on private.analytics_stage_hist (user_account_id, direction_id, day)
  where per_creative;

comment on table private.analytics_stage_hist is
  'Completed stage visits per duration bucket (private.analytics_stage_bucket) of leads created on a day (or '
  '''infinity'' = all time), per creative/direction and account-wide. Written only by the fold.';

alter table private.analytics_stage_leads enable row level security;

alter table private.analytics_stage_dirty enable row level security;

alter table private.analytics_stage_counts enable row level security;

alter table private.analytics_stage_hist enable row level security;

revoke all on private.analytics_stage_leads, private.analytics_stage_dirty, private.analytics_stage_counts,
  private.analytics_stage_hist from public, anon, authenticated;

-- Members read through the security_invoker functions of 0350 (the not-yet-folded part too); only the triggers
-- and the fold (security definer) write.
grant select on private.analytics_stage_leads, private.analytics_stage_dirty, private.analytics_stage_counts,
  private.analytics_stage_hist to authenticated, service_role;

create policy "members select" on private.analytics_stage_leads for select to authenticated
  using (user_account_id in (select private.my_user_account_ids()));

create policy "members select" on private.analytics_stage_dirty for select to authenticated
  using (user_account_id in (select private.my_user_account_ids()));

create policy "members select" on private.analytics_stage_counts for select to authenticated
  using (user_account_id in (select private.my_user_account_ids()));

create policy "members select" on private.analytics_stage_hist for select to authenticated
  using (user_account_id in (select private.my_user_account_ids()));
