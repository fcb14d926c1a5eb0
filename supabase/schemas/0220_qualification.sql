-- Qualification, SQL-first. A deal is qualified once it has been (history, or its current stage) in a stage
-- that reached or passed (by sort order within its pipeline) a stage flagged qualified, or it was won (142). Lost (143) never counts as
-- "passing" anything even though its sort order is the highest. Because history only grows, a deal stays
-- qualified when it later moves back or is lost; changing a stage's flag recomputes from history.
--   private.stage_sort            sort order of a (pipeline, status), system statuses included
--   private.stage_qualifies       the rule for one stage
--   private.deal_is_qualified     the rule over every stage the deal has been in
--   trigger on amocrm_deals       keeps is_qualified current and mirrors state onto public.leads
--   trigger on pipeline stages    a flag change recomputes the affected deals in the same transaction
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
      and private.stage_sort(p_user_account_id, p_pipeline_id, p_status_id) >= (
        select min(q.sort_order) from public.amocrm_pipeline_stages q
        where q.user_account_id = p_user_account_id and q.pipeline_id = p_pipeline_id and q.is_qualified_stage
      )
    ),
    false);
end $$;
comment on function private.stage_qualifies(uuid, integer, integer) is
  'True when being in this stage means the lead reached or passed a qualified stage of its pipeline, or won.';
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
      select h.to_pipeline_id as pipeline_id, h.to_status_id as status_id
      from public.amocrm_lead_status_history h
      where h.user_account_id = p_user_account_id and h.amocrm_lead_id = p_amocrm_lead_id
      union
      select d.pipeline_id, d.status_id
      from public.amocrm_deals d
      where d.user_account_id = p_user_account_id and d.amocrm_lead_id = p_amocrm_lead_id
    ) d
  ), false);
end $$;
comment on function private.deal_is_qualified(uuid, bigint) is
  'True when any stage the deal has been in (history, or where it is now) qualifies (see private.stage_qualifies).';
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

-- Flipping a stage's flag (the dashboard's toggle) recomputes every deal that ever was in that pipeline.
create or replace function private.recompute_qualification_after_flag_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.amocrm_deals d
  set is_qualified = private.deal_is_qualified(d.user_account_id, d.amocrm_lead_id)
  where d.user_account_id = new.user_account_id
    and d.amocrm_lead_id in (
      select h.amocrm_lead_id from public.amocrm_lead_status_history h
      where h.user_account_id = new.user_account_id and h.to_pipeline_id = new.pipeline_id
    );
  return null;
end $$;
comment on function private.recompute_qualification_after_flag_change() is
  'Trigger (after update of is_qualified_stage): recompute is_qualified of the deals that passed through the '
  'pipeline. Security definer because members may flip the flag but not write deals directly.';
revoke all on function private.recompute_qualification_after_flag_change() from public;

create trigger recompute_qualification after update of is_qualified_stage on public.amocrm_pipeline_stages
  for each row when (old.is_qualified_stage is distinct from new.is_qualified_stage)
  execute function private.recompute_qualification_after_flag_change();

-- Reading history by deal is the qualification rule's hot path.
create index amocrm_lead_status_history_deal_idx
  on public.amocrm_lead_status_history (user_account_id, amocrm_lead_id);
