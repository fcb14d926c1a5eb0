-- Ad spend, the cost side of ROI: one row per creative, day and currency, written by the ad-buying side of the
-- product (service_role) or by members through the API.
--   public.ad_spend_daily                 the input table (RLS: members read/write their accounts' rows)
--   private.check_ad_spend_creative()     trigger: the creative must belong to the row's user account
-- Amounts are in the currency named on the row. Revenue (public.sales) carries no currency: it is in the
-- amoCRM account's currency, so ROI is only meaningful when spend is recorded in that same currency; the
-- funnel functions report mixed-currency spend as 'mixed' and leave cost metrics empty rather than add
-- roubles to dollars. Deleting a creative deletes its spend.
create table public.ad_spend_daily (
  id uuid primary key default gen_random_uuid(),
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  creative_id uuid not null references public.creatives (id) on delete cascade,
  spend_date date not null,
  amount numeric(14, 2) not null check (amount >= 0),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint ad_spend_daily_creative_day_currency_key unique (creative_id, spend_date, currency)
);

comment on table public.ad_spend_daily is
  'Ad spend per creative per day (spend_date is the ad platform''s reporting day) and ISO 4217 currency. '
  'Input for cpl/cpql/cpa/roi in the funnel functions and views.';

-- The unique key (creative_id first) also serves the creative foreign key; this one the account foreign key,
-- RLS and every date-range read of the funnel functions.
create index ad_spend_daily_account_day_idx on public.ad_spend_daily (user_account_id, spend_date);

create trigger touch_updated_at before update on public.ad_spend_daily
  for each row execute function private.touch_updated_at();

-- A foreign key cannot say "a creative of this account": without the check a row could book one account's
-- spend against another account's creative.
create or replace function private.check_ad_spend_creative()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if not exists (
    select 1 from public.creatives c where c.id = new.creative_id and c.user_account_id = new.user_account_id
  ) then
    raise exception using
      errcode = '23503',
      message = format('creative %s does not belong to user account %s', new.creative_id, new.user_account_id);
  end if;
  return new;
end $$;
comment on function private.check_ad_spend_creative() is
  'Trigger (before insert/update on ad_spend_daily): reject spend booked against another account''s creative. '
  'Runs as the caller, so a member cannot even probe creatives of accounts they do not belong to.';
revoke all on function private.check_ad_spend_creative() from public;

create trigger check_creative before insert or update of creative_id, user_account_id on public.ad_spend_daily
  for each row execute function private.check_ad_spend_creative();

alter table public.ad_spend_daily enable row level security;

revoke all on public.ad_spend_daily from anon, authenticated;

grant select, insert, update, delete on public.ad_spend_daily to authenticated;

grant all on public.ad_spend_daily to service_role;

create policy "members select" on public.ad_spend_daily for select to authenticated
  using (user_account_id in (select private.my_user_account_ids()));

create policy "members insert" on public.ad_spend_daily for insert to authenticated
  with check (user_account_id in (select private.my_user_account_ids()));

create policy "members update" on public.ad_spend_daily for update to authenticated
  using (user_account_id in (select private.my_user_account_ids()))
  with check (user_account_id in (select private.my_user_account_ids()));

create policy "members delete" on public.ad_spend_daily for delete to authenticated
  using (user_account_id in (select private.my_user_account_ids()));
