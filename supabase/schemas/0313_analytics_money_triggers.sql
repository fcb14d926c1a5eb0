-- ---------------------------------------------------------------------------------------------------------------
-- Triggers on public.sales
-- ---------------------------------------------------------------------------------------------------------------
create or replace function private.analytics_sale_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_old_lead bigint;
  v_old_amount numeric := 0;
  v_new_lead bigint;
  v_new_amount numeric := 0;
begin
  if tg_op in ('UPDATE', 'DELETE') and old.status = 'paid' then
    v_old_lead := old.lead_id;
    v_old_amount := coalesce(old.amount, 0);
  end if;
  if tg_op in ('INSERT', 'UPDATE') and new.status = 'paid' then
    v_new_lead := new.lead_id;
    v_new_amount := coalesce(new.amount, 0);
  end if;

  -- GUARD: money is booked to the sale's own account. The lead must belong to it (the composite foreign key
  -- says so too; this also refuses a sale without an account, which a foreign key does not check).
  if v_new_lead is not null and not exists (
    select 1 from public.leads l where l.id = v_new_lead and l.user_account_id = new.user_account_id
  ) then
    raise exception using errcode = '23503',
      message = format('lead %s does not belong to user account %s', v_new_lead, new.user_account_id);
  end if;

  if v_old_lead is not null and v_old_lead = v_new_lead then
    -- Still paid, same lead: only the amount moved.
    perform private.analytics_apply_lead_money(v_new_lead, 0, v_new_amount - v_old_amount, 0, 0);
  else
    if v_old_lead is not null then
      perform private.analytics_apply_lead_money(v_old_lead, -1, -v_old_amount, 0, 0);
    end if;
    if v_new_lead is not null then
      perform private.analytics_apply_lead_money(v_new_lead, 1, v_new_amount, 0, 0);
    end if;
  end if;
  return null;
end $$;
comment on function private.analytics_sale_changed() is
  'Trigger (after insert/update/delete on sales, per row, only for paid sales with a lead): move paid-sale '
  'count and revenue onto the lead and its rollup row; pending/cancelled sales count for nothing. Refuses a sale '
  'whose lead is not in the sale''s account.';
revoke all on function private.analytics_sale_changed() from public;

create trigger analytics_sale_inserted after insert on public.sales
  for each row when (new.status = 'paid' and new.lead_id is not null)
  execute function private.analytics_sale_changed();

create trigger analytics_sale_updated after update of status, amount, lead_id on public.sales
  for each row
  when (
    (old.status = 'paid' and old.lead_id is not null or new.status = 'paid' and new.lead_id is not null)
    and (old.status is distinct from new.status or old.amount is distinct from new.amount
      or old.lead_id is distinct from new.lead_id)
  )
  execute function private.analytics_sale_changed();

create trigger analytics_sale_deleted after delete on public.sales
  for each row when (old.status = 'paid' and old.lead_id is not null)
  execute function private.analytics_sale_changed();

-- ---------------------------------------------------------------------------------------------------------------
-- Triggers on public.purchases
-- ---------------------------------------------------------------------------------------------------------------
create or replace function private.analytics_purchases_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_accounts uuid[];
  v_phones text[];
begin
  -- Only product-recorded purchases (no amoCRM deal) are credited by phone; purchases mirroring a won deal
  -- are already counted through their sale.
  if tg_op = 'INSERT' then
    select array_agg(p.user_account_id), array_agg(p.client_phone_e164) into v_accounts, v_phones
    from (select distinct n.user_account_id, n.client_phone_e164 from new_purchases n
          where n.amocrm_deal_id is null and n.client_phone_e164 is not null) p;
  elsif tg_op = 'DELETE' then
    select array_agg(p.user_account_id), array_agg(p.client_phone_e164) into v_accounts, v_phones
    from (select distinct o.user_account_id, o.client_phone_e164 from old_purchases o
          where o.amocrm_deal_id is null and o.client_phone_e164 is not null) p;
  else
    select array_agg(p.user_account_id), array_agg(p.client_phone_e164) into v_accounts, v_phones
    from (
      select o.user_account_id, o.client_phone_e164
      from old_purchases o join new_purchases n on n.id = o.id
      where o.amocrm_deal_id is null
        and (o.user_account_id, o.client_phone_e164, o.amount, o.purchase_date, o.amocrm_deal_id)
          is distinct from (n.user_account_id, n.client_phone_e164, n.amount, n.purchase_date, n.amocrm_deal_id)
      union
      select n.user_account_id, n.client_phone_e164
      from old_purchases o join new_purchases n on n.id = o.id
      where n.amocrm_deal_id is null
        and (o.user_account_id, o.client_phone_e164, o.amount, o.purchase_date, o.amocrm_deal_id)
          is distinct from (n.user_account_id, n.client_phone_e164, n.amount, n.purchase_date, n.amocrm_deal_id)
    ) p
    where p.client_phone_e164 is not null;
  end if;

  if v_accounts is not null then
    perform private.analytics_recompute_phones(v_accounts, v_phones);
  end if;
  return null;
end $$;
comment on function private.analytics_purchases_changed() is
  'Trigger (after insert/update/delete on purchases, per statement): re-credit product-recorded purchases of '
  'the phones the statement touched.';
revoke all on function private.analytics_purchases_changed() from public;

create trigger analytics_purchases_inserted after insert on public.purchases
  referencing new table as new_purchases
  for each statement execute function private.analytics_purchases_changed();

create trigger analytics_purchases_updated after update on public.purchases
  referencing old table as old_purchases new table as new_purchases
  for each statement execute function private.analytics_purchases_changed();

create trigger analytics_purchases_deleted after delete on public.purchases
  referencing old table as old_purchases
  for each statement execute function private.analytics_purchases_changed();

-- ---------------------------------------------------------------------------------------------------------------
-- Trigger on public.ad_spend_daily
-- ---------------------------------------------------------------------------------------------------------------
create or replace function private.analytics_spend_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- GUARD (both sides): during an account's cascade delete its totals go with it; never re-create them.
  if tg_op in ('UPDATE', 'DELETE')
     and exists (select 1 from public.user_accounts a where a.id = old.user_account_id) then
    insert into private.analytics_spend_totals as t (user_account_id, creative_id, currency, amount, spend_rows)
    values (old.user_account_id, old.creative_id, old.currency, -old.amount, -1)
    on conflict (creative_id, currency) do update set
      amount = t.amount + excluded.amount, spend_rows = t.spend_rows + excluded.spend_rows;
  end if;
  if tg_op in ('INSERT', 'UPDATE')
     and exists (select 1 from public.user_accounts a where a.id = new.user_account_id) then
    insert into private.analytics_spend_totals as t (user_account_id, creative_id, currency, amount, spend_rows)
    values (new.user_account_id, new.creative_id, new.currency, new.amount, 1)
    on conflict (creative_id, currency) do update set
      user_account_id = excluded.user_account_id,
      amount = t.amount + excluded.amount, spend_rows = t.spend_rows + excluded.spend_rows;
  end if;
  return null;
end $$;
comment on function private.analytics_spend_changed() is
  'Trigger (after insert/update/delete on ad_spend_daily, per row): keep the all-time spend per creative and '
  'currency.';
revoke all on function private.analytics_spend_changed() from public;

create trigger analytics_spend_inserted after insert on public.ad_spend_daily
  for each row execute function private.analytics_spend_changed();

create trigger analytics_spend_updated after update of user_account_id, creative_id, currency, amount on public.ad_spend_daily
  for each row
  when (old.user_account_id is distinct from new.user_account_id or old.creative_id is distinct from new.creative_id
    or old.currency is distinct from new.currency or old.amount is distinct from new.amount)
  execute function private.analytics_spend_changed();

create trigger analytics_spend_deleted after delete on public.ad_spend_daily
  for each row execute function private.analytics_spend_changed();
