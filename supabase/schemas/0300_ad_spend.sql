-- Ad spend, the cost side of ROI: one row per creative, day and currency, written by the ad-buying side of the
-- product (service_role).
--   public.ad_spend_daily                 the input table (RLS: members read their accounts' rows)
--   ad_spend_daily_creative_same_account_fkey   the creative must belong to the row's user account
-- Amounts are in the currency named on the row. Revenue (public.sales) carries no currency: it is in the
-- amoCRM account's currency, so ROI is only meaningful when spend is recorded in that same currency; the
-- funnel functions report mixed-currency spend as 'mixed' and leave cost metrics empty rather than add
-- roubles to dollars. Deleting a creative deletes its spend.
create table public.ad_spend_daily (
  id uuid primary key default gen_random_uuid(),
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  creative_id uuid not null,
  spend_date date not null,
  amount numeric(14, 2) not null check (amount >= 0),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint ad_spend_daily_creative_day_currency_key unique (creative_id, spend_date, currency),
  -- Spend is booked against a creative of the row's own account only.
  constraint ad_spend_daily_creative_same_account_fkey foreign key (creative_id, user_account_id)
    references public.creatives (id, user_account_id) on delete cascade
);

comment on table public.ad_spend_daily is
  'Ad spend per creative per day (spend_date is the ad platform''s reporting day) and ISO 4217 currency. '
  'Input for cpl/cpql/cpa/roi in the funnel functions and views.';

-- This one serves the account foreign key, RLS and every date-range read of the funnel functions.
create index ad_spend_daily_account_day_idx on public.ad_spend_daily (user_account_id, spend_date);

create index ad_spend_daily_creative_account_idx on public.ad_spend_daily (creative_id, user_account_id);

create trigger touch_updated_at before update on public.ad_spend_daily
  for each row execute function private.touch_updated_at();

alter table public.ad_spend_daily enable row level security;

revoke all on public.ad_spend_daily from anon, authenticated;

grant select on public.ad_spend_daily to authenticated;

grant all on public.ad_spend_daily to service_role;

create policy "members select" on public.ad_spend_daily for select to authenticated
  using (user_account_id in (select private.my_user_account_ids()));
