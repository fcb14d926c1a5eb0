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
revoke execute on function private.link_lead_to_existing_deals() from public, anon, authenticated;

drop trigger if exists link_existing_deals on public.leads;
create trigger link_existing_deals after insert or update of amocrm_lead_id, phone, chat_id on public.leads
  for each row when (new.amocrm_lead_id is not null or new.phone is not null or new.chat_id is not null)
  execute function private.link_lead_to_existing_deals();
