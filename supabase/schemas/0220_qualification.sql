-- Qualification, SQL-first. A deal is qualified once it has been (history, or its current stage) in a stage
-- that reached or passed (in stage order within its pipeline) a stage flagged qualified, or it was won (142).
-- Lost (143) never counts as "passing" anything even though its sort order is the highest. Because history
-- only grows, a deal stays qualified when it later moves back or is lost; a catalog change recomputes.
-- Stage order is the order amoCRM shows: Unsorted (type 1) first, then sort, then status id (a stable
-- tie-break: two stages with one sort value are never both "at" the flagged stage).
--   private.stage_order_key       that order as a sortable key, for a catalog row
--   private.stage_order           the key of a (pipeline, status), system statuses included
--   private.stage_sort            sort order of a (pipeline, status), system statuses included
--   private.stage_qualifies       the rule for one stage
--   private.deal_is_qualified     the rule over every stage the deal has been in
--   trigger on amocrm_deals       keeps is_qualified current and mirrors state onto public.leads
--   triggers on pipeline stages   any catalog change (flag, sort, new or removed stage) that changes the
--                                 rule's outcome recomputes the affected deals in the same transaction
create or replace function private.stage_sort(p_user_account_id uuid, p_pipeline_id integer, p_status_id integer)
returns integer
language plpgsql
stable
set search_path = ''
as $$
begin
  return coalesce(
    (select s.sort_order from public.amocrm_pipeline_stages s
     where s.user_account_id = p_user_account_id and s.pipeline_id = p_pipeline_id and s.status_id = p_status_id),
    -- System statuses exist in every pipeline even before the first sync.
    case p_status_id when 142 then 10000 when 143 then 11000 end
  );
end $$;
comment on function private.stage_sort(uuid, integer, integer) is
  'Sort order of a stage within its pipeline (142 = 10000, 143 = 11000 when not synced yet); null if unknown.';
revoke all on function private.stage_sort(uuid, integer, integer) from public;
grant execute on function private.stage_sort(uuid, integer, integer) to service_role;

create or replace function private.stage_order_key(p_status_type integer, p_sort_order integer, p_status_id integer)
returns integer[]
language plpgsql
immutable
set search_path = ''
as $$
begin
  return array[case when p_status_type = 1 then 0 else 1 end, p_sort_order, p_status_id];
end $$;
comment on function private.stage_order_key(integer, integer, integer) is
  'Sortable key of a stage in the order amoCRM shows it: Unsorted (type 1) first, then sort, then status id.';

create or replace function private.stage_order(p_user_account_id uuid, p_pipeline_id integer, p_status_id integer)
returns integer[]
language plpgsql
stable
set search_path = ''
as $$
begin
  return coalesce(
    (select private.stage_order_key(s.status_type, s.sort_order, s.status_id) from public.amocrm_pipeline_stages s
     where s.user_account_id = p_user_account_id and s.pipeline_id = p_pipeline_id and s.status_id = p_status_id),
    -- System statuses exist in every pipeline even before the first sync.
    case p_status_id when 142 then array[1, 10000, 142] when 143 then array[1, 11000, 143] end
  );
end $$;
comment on function private.stage_order(uuid, integer, integer) is
  'Order key (private.stage_order_key) of a stage within its pipeline; null if unknown.';

create or replace function private.stage_qualifies(p_user_account_id uuid, p_pipeline_id integer, p_status_id integer)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  return coalesce(
    p_status_id = 142
    or (
      p_status_id <> 143
      and private.stage_order(p_user_account_id, p_pipeline_id, p_status_id) >= (
        select min(private.stage_order_key(q.status_type, q.sort_order, q.status_id))
        from public.amocrm_pipeline_stages q
        where q.user_account_id = p_user_account_id and q.pipeline_id = p_pipeline_id and q.is_qualified_stage
      )
    ),
    false);
end $$;
comment on function private.stage_qualifies(uuid, integer, integer) is
  'True when being in this stage means the lead reached or passed a qualified stage of its pipeline (stage '
  'order: private.stage_order), or won.';
revoke all on function private.stage_qualifies(uuid, integer, integer) from public;
grant execute on function private.stage_qualifies(uuid, integer, integer) to service_role;

create or replace function private.deal_is_qualified(p_user_account_id uuid, p_amocrm_lead_id bigint)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  return coalesce((
    select bool_or(private.stage_qualifies(p_user_account_id, d.pipeline_id, d.status_id))
    from (
      -- A transition's "from" is a stage the deal was in too (the first stage of a deal created before
      -- tracking began shows up only there).
      select x.pipeline_id, x.status_id
      from public.amocrm_lead_status_history h
      cross join lateral (values (h.to_pipeline_id, h.to_status_id), (h.from_pipeline_id, h.from_status_id))
        as x (pipeline_id, status_id)
      where h.user_account_id = p_user_account_id and h.amocrm_lead_id = p_amocrm_lead_id and x.status_id is not null
      union
      select d.pipeline_id, d.status_id
      from public.amocrm_deals d
      where d.user_account_id = p_user_account_id and d.amocrm_lead_id = p_amocrm_lead_id
    ) d
  ), false);
end $$;
comment on function private.deal_is_qualified(uuid, bigint) is
  'True when any stage the deal has been in (history, either side, or where it is now) qualifies (see '
  'private.stage_qualifies).';
revoke all on function private.deal_is_qualified(uuid, bigint) from public;
grant execute on function private.deal_is_qualified(uuid, bigint) to service_role;

-- Keeps amocrm_deals.is_qualified equal to the rule, and copies the deal's state onto the product lead.
create or replace function private.sync_deal_derived_state()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- The row being written is not visible to the query yet: its own stage is checked separately.
  new.is_qualified := private.stage_qualifies(new.user_account_id, new.pipeline_id, new.status_id)
    or private.deal_is_qualified(new.user_account_id, new.amocrm_lead_id);
  if new.is_qualified and new.qualified_at is null then
    new.qualified_at := now();
  elsif not new.is_qualified then
    new.qualified_at := null;
  end if;
  return new;
end $$;
comment on function private.sync_deal_derived_state() is
  'Trigger (before insert/update on amocrm_deals): recompute is_qualified from history.';
revoke all on function private.sync_deal_derived_state() from public;

create or replace function private.mirror_deal_onto_lead()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and old.lead_id is not null and old.lead_id is distinct from new.lead_id then
    perform private.refresh_lead_from_deals(old.lead_id);
  end if;
  if new.lead_id is not null then
    perform private.refresh_lead_from_deals(new.lead_id);
  end if;
  return null;
end $$;
comment on function private.mirror_deal_onto_lead() is
  'Trigger (after insert/update on amocrm_deals): copy stage and qualification onto the linked product lead.';
revoke all on function private.mirror_deal_onto_lead() from public;

-- A product lead shows the stage of the deal created for it (linked by amocrm_lead_id) or, when the product
-- never had an amoCRM id for it, of its newest phone-linked deal; it is qualified if any linked deal is.
create or replace function private.refresh_lead_from_deals(p_lead_id bigint)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  with primary_deal as (
    select d.pipeline_id, d.status_id
    from public.amocrm_deals d
    where d.lead_id = p_lead_id and not d.is_deleted
    order by (d.attribution = 'amocrm_lead_id') desc, d.amocrm_created_at desc nulls last, d.amocrm_lead_id desc
    limit 1
  ), qualified as (
    select coalesce(bool_or(d.is_qualified), false) as q from public.amocrm_deals d where d.lead_id = p_lead_id
  )
  update public.leads l set
    current_pipeline_id = (select pipeline_id from primary_deal),
    current_status_id = (select status_id from primary_deal),
    is_qualified = (select q from qualified)
  where l.id = p_lead_id
    and (l.current_pipeline_id, l.current_status_id, l.is_qualified)
      is distinct from ((select pipeline_id from primary_deal), (select status_id from primary_deal), (select q from qualified));
end $$;
comment on function private.refresh_lead_from_deals(bigint) is
  'Copy current pipeline/status and qualification from a product lead''s amoCRM deals onto public.leads.';
revoke all on function private.refresh_lead_from_deals(bigint) from public;
grant execute on function private.refresh_lead_from_deals(bigint) to service_role;

create trigger sync_derived_state before insert or update on public.amocrm_deals
  for each row execute function private.sync_deal_derived_state();

create trigger mirror_onto_lead after insert or update of pipeline_id, status_id, is_qualified, lead_id, is_deleted
  on public.amocrm_deals
  for each row execute function private.mirror_deal_onto_lead();

-- Any change of the stage catalog — the dashboard's flag toggle, a pipeline sync that re-sorts, adds or
-- removes stages — recomputes, in the same transaction, every deal whose current stage or any past stage
-- (history, either side) changed its outcome under the rule. The catalog before the statement is the table
-- now with the changed rows swapped back (transition tables); a statement that changes no outcome (a rename,
-- a sync that only touches synced_at) recomputes nothing.
create or replace function private.requalify_after_catalog_change(p_old_rows jsonb, p_new_rows jsonb)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_count integer;
begin
  with old_rows as (
    select * from jsonb_populate_recordset(null::public.amocrm_pipeline_stages, p_old_rows)
  ), new_rows as (
    select * from jsonb_populate_recordset(null::public.amocrm_pipeline_stages, p_new_rows)
  ), affected as (
    select distinct r.user_account_id, r.pipeline_id from (
      select user_account_id, pipeline_id from old_rows union all select user_account_id, pipeline_id from new_rows
    ) r
  ), after_catalog as (
    select s.* from public.amocrm_pipeline_stages s
    join affected a on a.user_account_id = s.user_account_id and a.pipeline_id = s.pipeline_id
  ), before_catalog as (
    select c.* from after_catalog c where c.id not in (select n.id from new_rows n)
    union all select o.* from old_rows o
  ), outcomes as (
    -- Per catalog, each stage's outcome under the rule (private.stage_qualifies over that catalog).
    select c.version, c.user_account_id, c.pipeline_id, c.status_id,
      c.status_id = 142 or (c.status_id <> 143 and coalesce(c.ord >= min(c.ord) filter (where c.is_qualified_stage)
        over (partition by c.version, c.user_account_id, c.pipeline_id), false)) as qualifies
    from (
      select 'before' as version, b.user_account_id, b.pipeline_id, b.status_id, b.is_qualified_stage,
        private.stage_order_key(b.status_type, b.sort_order, b.status_id) as ord
      from before_catalog b
      union all
      select 'after', a.user_account_id, a.pipeline_id, a.status_id, a.is_qualified_stage,
        private.stage_order_key(a.status_type, a.sort_order, a.status_id)
      from after_catalog a
    ) c
  ), changed as (
    -- A stage missing from one side qualifies there only if it is 142 (private.stage_order knows it anyway).
    select coalesce(b.user_account_id, a.user_account_id) as user_account_id,
      coalesce(b.pipeline_id, a.pipeline_id) as pipeline_id, coalesce(b.status_id, a.status_id) as status_id
    from (select * from outcomes where version = 'before') b
    full join (select * from outcomes where version = 'after') a
      on a.user_account_id = b.user_account_id and a.pipeline_id = b.pipeline_id and a.status_id = b.status_id
    where coalesce(b.qualifies, coalesce(a.status_id, b.status_id) = 142)
      is distinct from coalesce(a.qualifies, coalesce(a.status_id, b.status_id) = 142)
  ), deals as (
    select d.user_account_id, d.amocrm_lead_id
    from public.amocrm_deals d
    join changed c on c.user_account_id = d.user_account_id and c.pipeline_id = d.pipeline_id and c.status_id = d.status_id
    union
    select h.user_account_id, h.amocrm_lead_id
    from public.amocrm_lead_status_history h
    join changed c on c.user_account_id = h.user_account_id
      and ((c.pipeline_id = h.to_pipeline_id and c.status_id = h.to_status_id)
        or (c.pipeline_id = h.from_pipeline_id and c.status_id = h.from_status_id))
  )
  -- The deal's BEFORE trigger recomputes is_qualified (and its AFTER trigger mirrors it onto the lead).
  update public.amocrm_deals d set is_qualified = d.is_qualified
  from deals x
  where d.user_account_id = x.user_account_id and d.amocrm_lead_id = x.amocrm_lead_id;
  get diagnostics v_count = row_count;
  return v_count;
end $$;
comment on function private.requalify_after_catalog_change(jsonb, jsonb) is
  'Recompute is_qualified of every deal (current stage or history) in a stage whose outcome under the rule '
  'differs between the catalog before and after a statement (rows before/after as JSON arrays). Returns how '
  'many deals were recomputed.';
revoke all on function private.requalify_after_catalog_change(jsonb, jsonb) from public;

create or replace function private.recompute_qualification_after_catalog_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_old jsonb := '[]';
  v_new jsonb := '[]';
begin
  if tg_op in ('UPDATE', 'DELETE') then
    select coalesce(jsonb_agg(to_jsonb(o)), '[]') into v_old from old_stages o;
  end if;
  if tg_op in ('UPDATE', 'INSERT') then
    select coalesce(jsonb_agg(to_jsonb(n)), '[]') into v_new from new_stages n;
  end if;
  perform private.requalify_after_catalog_change(v_old, v_new);
  return null;
end $$;
comment on function private.recompute_qualification_after_catalog_change() is
  'Trigger (after each insert/update/delete statement on amocrm_pipeline_stages): recompute the deals whose '
  'qualification the catalog change affects. Security definer because members may flip the flag but not write '
  'deals directly.';
revoke all on function private.recompute_qualification_after_catalog_change() from public;

create trigger recompute_qualification_after_insert after insert on public.amocrm_pipeline_stages
  referencing new table as new_stages
  for each statement execute function private.recompute_qualification_after_catalog_change();

create trigger recompute_qualification_after_update after update on public.amocrm_pipeline_stages
  referencing old table as old_stages new table as new_stages
  for each statement execute function private.recompute_qualification_after_catalog_change();

create trigger recompute_qualification_after_delete after delete on public.amocrm_pipeline_stages
  referencing old table as old_stages
  for each statement execute function private.recompute_qualification_after_catalog_change();

-- Reading history by deal is the qualification rule's hot path.
create index amocrm_lead_status_history_deal_idx
  on public.amocrm_lead_status_history (user_account_id, amocrm_lead_id);
