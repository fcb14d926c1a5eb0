-- Link an unlinked deal to a product lead: by the amoCRM id the product stored, else by the contact's phone:
-- the newest product lead that existed when the deal was created (the rule repeat purchases follow). A deal
-- older than every such lead stays unattributed; so does one whose creation time is not known yet (only its
-- contact was seen), until the API or a lead webhook says when it was created.
create or replace function private.link_deal_to_lead(p_user_account_id uuid, p_amocrm_lead_id bigint)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_deal public.amocrm_deals;
  v_lead_id bigint;
  v_how text;
begin
  perform private.lock_deal(p_user_account_id, p_amocrm_lead_id);
  select * into v_deal from public.amocrm_deals
  where user_account_id = p_user_account_id and amocrm_lead_id = p_amocrm_lead_id;
  if v_deal is null or v_deal.attribution = 'amocrm_lead_id' then
    return;
  end if;

  select l.id into v_lead_id from public.leads l
  where l.user_account_id = p_user_account_id and l.amocrm_lead_id = p_amocrm_lead_id
  order by l.id limit 1;
  if v_lead_id is not null then
    v_how := 'amocrm_lead_id';
  elsif v_deal.lead_id is null and v_deal.contact_phone_e164 is not null and v_deal.amocrm_created_at is not null then
    select l.id into v_lead_id from public.leads l
    where l.user_account_id = p_user_account_id and l.phone_e164 = v_deal.contact_phone_e164
      and l.created_at <= v_deal.amocrm_created_at
    order by l.created_at desc, l.id desc
    limit 1;
    v_how := case when v_lead_id is not null then 'phone' end;
  end if;

  if v_lead_id is not null and v_lead_id is distinct from v_deal.lead_id then
    update public.amocrm_deals set lead_id = v_lead_id, attribution = v_how
    where user_account_id = p_user_account_id and amocrm_lead_id = p_amocrm_lead_id;
    update public.amocrm_lead_status_history set lead_id = v_lead_id
    where user_account_id = p_user_account_id and amocrm_lead_id = p_amocrm_lead_id and lead_id is distinct from v_lead_id;
    update public.sales set lead_id = v_lead_id
    where user_account_id = p_user_account_id and amocrm_deal_id = p_amocrm_lead_id and lead_id is distinct from v_lead_id;
  end if;
end $$;
comment on function private.link_deal_to_lead(uuid, bigint) is
  'Attribute a deal to a product lead by leads.amocrm_lead_id, else by the main contact''s normalized phone '
  '(only a lead created no later than the deal; otherwise the deal stays unattributed).';
revoke all on function private.link_deal_to_lead(uuid,bigint) from public;
grant execute on function private.link_deal_to_lead(uuid,bigint) to service_role;

-- The product writes leads.amocrm_lead_id after it created the deal in amoCRM, so the add_lead webhook often
-- arrives first. When a product lead gets its amoCRM id or a phone, deals already mirrored are linked to it
-- right away (by id; by phone only for deals nobody claimed yet).
create or replace function private.link_lead_to_existing_deals()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_deal bigint;
begin
  -- Before looking for the deal: a webhook applying it right now either finishes first (we see its deal)
  -- or waits for us and then sees this lead (see private.lock_deal).
  if new.amocrm_lead_id is not null then
    perform private.lock_deal(new.user_account_id, new.amocrm_lead_id);
  end if;
  for v_deal in
    select d.amocrm_lead_id from public.amocrm_deals d
    where d.user_account_id = new.user_account_id
      and (
        d.amocrm_lead_id = new.amocrm_lead_id
        or (d.lead_id is null and new.phone_e164 is not null and d.contact_phone_e164 = new.phone_e164)
      )
  loop
    perform private.link_deal_to_lead(new.user_account_id, v_deal);
  end loop;
  return null;
end $$;
comment on function private.link_lead_to_existing_deals() is
  'Trigger (after insert/update of amocrm_lead_id or phones on leads): attribute already-mirrored deals. '
  'Security definer: the product may insert leads as a member, the deal mirror is service-only.';
revoke all on function private.link_lead_to_existing_deals() from public;

create trigger link_existing_deals after insert or update of amocrm_lead_id, phone, chat_id on public.leads
  for each row when (new.amocrm_lead_id is not null or new.phone is not null or new.chat_id is not null)
  execute function private.link_lead_to_existing_deals();

-- Merges. amoCRM's duplicate control can merge an incoming deal (a chat lead in Unsorted) into an existing
-- deal of the same client. The Events API records it as `entity_merged` with empty before/after values; how a
-- merge shows in account webhooks is not documented (seen: the absorbed deal deleted, the survivor updated).
-- So the pair is inferred: of the two, one is deleted and the other alive, and they share the main contact or
-- its phone. The product lead of the absorbed deal then follows the survivor, so its creative keeps the
-- credit (stage, qualification, sale): unless the survivor is already the deal of another product lead (by
-- the amoCRM id the product stored), which keeps it — one deal never counts for two leads.
--   amocrm.deal_merges                 absorbed deal → survivor, once
--   private.apply_deal_merge(…)        record one merge and move the product lead
--   private.apply_merge_event(…)       an Events API entity_merged event → the pair → apply_deal_merge
create table amocrm.deal_merges (
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  absorbed_amocrm_lead_id bigint not null,
  survivor_amocrm_lead_id bigint not null,
  merged_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (user_account_id, absorbed_amocrm_lead_id)
);

alter table amocrm.deal_merges enable row level security;

revoke all on amocrm.deal_merges from public, anon, authenticated;

grant all on amocrm.deal_merges to service_role;

create or replace function private.apply_deal_merge(
  p_user_account_id uuid, p_survivor bigint, p_absorbed bigint, p_merged_at timestamptz default null
)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_lead_id bigint;
  v_survivor public.amocrm_deals;
begin
  if p_survivor = p_absorbed then
    return 'ignored';
  end if;
  -- Lower id first, as every other writer of two deals does.
  perform private.lock_deal(p_user_account_id, least(p_survivor, p_absorbed));
  perform private.lock_deal(p_user_account_id, greatest(p_survivor, p_absorbed));
  insert into amocrm.deal_merges (user_account_id, absorbed_amocrm_lead_id, survivor_amocrm_lead_id, merged_at)
  values (p_user_account_id, p_absorbed, p_survivor, p_merged_at)
  on conflict do nothing;

  select d.lead_id into v_lead_id from public.amocrm_deals d
  where d.user_account_id = p_user_account_id and d.amocrm_lead_id = p_absorbed;
  select * into v_survivor from public.amocrm_deals d
  where d.user_account_id = p_user_account_id and d.amocrm_lead_id = p_survivor;
  -- GUARD: nothing to move, or the survivor is another product lead's own deal.
  if v_lead_id is null or v_survivor is null or v_survivor.lead_id = v_lead_id then
    return 'recorded';
  end if;
  if v_survivor.attribution = 'amocrm_lead_id' then
    return 'kept';
  end if;

  -- STEP: the survivor is the product lead's deal now (as if the product had stored its id).
  update public.amocrm_deals set lead_id = v_lead_id, attribution = 'amocrm_lead_id'
  where user_account_id = p_user_account_id and amocrm_lead_id = p_survivor;
  update public.amocrm_lead_status_history set lead_id = v_lead_id
  where user_account_id = p_user_account_id and amocrm_lead_id = p_survivor and lead_id is distinct from v_lead_id;
  update public.sales set lead_id = v_lead_id
  where user_account_id = p_user_account_id and amocrm_deal_id = p_survivor and lead_id is distinct from v_lead_id;
  return 'followed';
end $$;
comment on function private.apply_deal_merge(uuid, bigint, bigint, timestamptz) is
  'Record that amoCRM merged deal p_absorbed into p_survivor and move the absorbed deal''s product lead onto the '
  'survivor (unless the survivor is another product lead''s own deal). Returns followed | kept | recorded | ignored.';
revoke all on function private.apply_deal_merge(uuid,bigint,bigint,timestamp with time zone) from public;
grant execute on function private.apply_deal_merge(uuid,bigint,bigint,timestamp with time zone) to service_role;

create or replace function private.apply_merge_event(p_user_account_id uuid, p_event jsonb)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_id bigint := private.webhook_int(p_event ->> 'entity_id');
  v_deal public.amocrm_deals;
  v_other bigint;
begin
  if p_event ->> 'type' is distinct from 'entity_merged' or p_event ->> 'entity_type' is distinct from 'lead'
     or v_id is null then
    return 'ignored';
  end if;
  select * into v_deal from public.amocrm_deals d
  where d.user_account_id = p_user_account_id and d.amocrm_lead_id = v_id;
  if v_deal is null then
    return 'unknown_deal';
  end if;
  -- The other side: alive if this one is deleted and vice versa, sharing the main contact or its phone;
  -- the most recently changed one when several match.
  select d.amocrm_lead_id into v_other from public.amocrm_deals d
  where d.user_account_id = p_user_account_id and d.amocrm_lead_id <> v_id and d.is_deleted <> v_deal.is_deleted
    and (d.main_contact_id = v_deal.main_contact_id or d.contact_phone_e164 = v_deal.contact_phone_e164)
  order by d.amocrm_updated_at desc nulls last, d.amocrm_lead_id desc
  limit 1;
  if v_other is null then
    return 'no_pair';
  end if;
  return private.apply_deal_merge(p_user_account_id,
    case when v_deal.is_deleted then v_other else v_id end, case when v_deal.is_deleted then v_id else v_other end,
    to_timestamp(private.webhook_int(p_event ->> 'created_at')));
end $$;
comment on function private.apply_merge_event(uuid, jsonb) is
  'Apply an Events API entity_merged lead event (empty before/after): infer the pair (one deleted, one alive, '
  'same main contact or phone) and apply private.apply_deal_merge. Returns its outcome, or ignored | '
  'unknown_deal | no_pair.';
revoke all on function private.apply_merge_event(uuid,jsonb) from public;
grant execute on function private.apply_merge_event(uuid,jsonb) to service_role;
