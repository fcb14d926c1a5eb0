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
