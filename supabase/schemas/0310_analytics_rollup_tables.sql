-- Analytics rollups (tables). Lead, qualification, conversion and revenue counts per (user account, creative, direction,
-- lead day) and per (account, creative, direction) for all time, plus spend per creative for all time, kept
-- current by triggers, so that the funnel functions read a few thousand rows instead of aggregating a million
-- leads.
--
-- Objects:
--   private.analytics_lead_daily        one row per (account, creative, direction, local day of lead creation):
--                                       date-range reads; members read their accounts' rows (RLS)
--   private.analytics_lead_totals       the same without the day: all-time reads (RLS)
--   private.analytics_spend_totals      ad spend per (creative, currency) for all time (RLS)
--   private.analytics_lead_money        per product lead: paid sales and revenue, repeat purchases and revenue,
--                                       and the rollup row they are booked in
--   private.analytics_repeat_credits    which lead each product-recorded purchase is credited to
--   private.analytics_day()             the bucket day of a timestamp: its local date in the account's zone
--   private.analytics_time_zone()       that zone: the account's choice, else its amoCRM account's, else UTC
--   private.analytics_bump()            add deltas to one lead bucket (daily row and totals row)
--   private.analytics_apply_lead_money() add money deltas to one lead (money row + its bucket)
--   private.analytics_recompute_phones() re-credit the product-recorded purchases of some phones
--   triggers on public.leads (insert/delete per statement, update per row), public.sales (per row),
--   public.purchases (per statement) and public.ad_spend_daily (per row)
--   private.analytics_expected_credits() / analytics_expected_rollup()  the same numbers from scratch
--   private.analytics_rebuild()          replace one account's rollups with the from-scratch numbers
--
-- What the rollup counts for the leads of a bucket (the dashboard metrics built on it: README, "Metrics"):
--   leads             product leads (public.leads) of the account; leads without creative/direction have null keys
--   qualified_leads   leads with is_qualified (sticky: a lead lost after qualifying stays qualified)
--   converted_leads   leads with at least one paid sale (public.sales.status = 'paid'; 'pending' = won then
--                     reopened and 'cancelled' = won then lost do not count)
--   paid_sales, revenue   count and sum(amount) of the paid sales attributed to the leads (sales.lead_id)
--   repeat_purchases, repeat_revenue   purchases the product recorded itself (purchases.amocrm_deal_id is null)
--                     whose normalized phone matches a lead: each is credited once, to the newest lead of the
--                     account with that phone created at or before purchase_date — the same "newest lead before
--                     it" rule deals are attributed by; purchases older than every matching lead are not credited
--                     (the ad did not bring them); an undated purchase goes to the newest lead with the phone
--   Leads without a user account are not counted.
--
-- Write path (O(1) per changed row; every trigger function is security definer because members write leads,
-- sales, purchases and spend through RLS but may not write the rollups):
--   leads insert/delete   per statement (transition table): one grouped upsert per rollup for the whole statement
--   leads update          per row, only when is_qualified / creative / direction / created_at / account / phone
--                         changed (WHEN clause: a status-only update never calls a function); the webhook path
--                         (is_qualified flips) is two HOT upserts: the lead's daily row and its totals row
--   sales                 per row, only when a paid sale with a lead appears, disappears or changes amount/lead;
--                         locks the lead row FOR SHARE so a concurrent creative change cannot strand the money in
--                         the old bucket
--   purchases             per statement; re-credits the affected phones (bounded by the purchases of one phone)
--   ad_spend_daily        per row: the spend totals
-- During an account's cascade delete the triggers do nothing (the rollup rows are deleted by their own foreign
-- key), and money of a lead that is gone is ignored (its contribution left with it).
-- Queries over transition tables are written to stay index lookups whatever the statement size: plpgsql caches
-- their plan from the first call, so a plan made for a 100k-row backfill must not seq-scan purchases or
-- lead money on every later single-row insert (measured: 4.5 ms instead of 0.65 ms per lead).
-- Known limit: a lead and a product purchase with the same phone inserted concurrently in two transactions can
-- leave that purchase's credit stale; private.analytics_rebuild() repairs an account exactly.
--
-- Why rollups, and why these trigger shapes (measured): docs/decisions/analytics-rollups.md.

-- ---------------------------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------------------------
create table private.analytics_lead_daily (
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  -- No foreign keys on creative/direction: deleting one sets the leads' key to null (their trigger moves the
  -- counts), and the emptied row is harmless.
  creative_id uuid,
  direction_id uuid,
  day date not null,
  leads integer not null default 0,
  qualified_leads integer not null default 0,
  converted_leads integer not null default 0,
  paid_sales integer not null default 0,
  revenue numeric not null default 0,
  repeat_purchases integer not null default 0,
  repeat_revenue numeric not null default 0,
  constraint analytics_lead_daily_key unique nulls not distinct (user_account_id, creative_id, direction_id, day)
) with (fillfactor = 80);

comment on table private.analytics_lead_daily is
  'Funnel rollup per (account, creative, direction, local day of lead creation); maintained by triggers on leads, '
  'sales and purchases. Counters are never indexed, so every bump is a HOT update.';

-- Date-range reads; the key above serves the account foreign key.
create index analytics_lead_daily_account_day_idx on private.analytics_lead_daily (user_account_id, day);

create table private.analytics_lead_totals (
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  creative_id uuid,
  direction_id uuid,
  leads integer not null default 0,
  qualified_leads integer not null default 0,
  converted_leads integer not null default 0,
  paid_sales integer not null default 0,
  revenue numeric not null default 0,
  repeat_purchases integer not null default 0,
  repeat_revenue numeric not null default 0,
  constraint analytics_lead_totals_key unique nulls not distinct (user_account_id, creative_id, direction_id)
) with (fillfactor = 70);

comment on table private.analytics_lead_totals is
  'All-time funnel counts per (account, creative, direction): the sum of analytics_lead_daily over days, kept by '
  'the same trigger bumps, so all-time reads cost O(creatives) whatever the history length.';

create table private.analytics_spend_totals (
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  creative_id uuid not null,
  currency text not null,
  amount numeric not null default 0,
  -- How many ad_spend_daily rows the amount sums; 0 = no spend (the row stays after its spend is deleted).
  spend_rows integer not null default 0,
  constraint analytics_spend_totals_key unique (creative_id, currency)
) with (fillfactor = 70);

comment on table private.analytics_spend_totals is
  'All-time ad spend per creative and currency: the sum of public.ad_spend_daily, kept by its trigger.';

create index analytics_spend_totals_user_account_id_idx on private.analytics_spend_totals (user_account_id);

create table private.analytics_lead_money (
  lead_id bigint primary key,
  -- The rollup row this lead's money is booked in. Within one multi-row UPDATE of leads every row is changed
  -- before the first row trigger fires, so money arriving meanwhile is booked under the lead's new key; the
  -- lead's own trigger then moves the money from where it is booked, not from where the lead was.
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  creative_id uuid,
  direction_id uuid,
  day date not null,
  paid_sales integer not null default 0,
  revenue numeric not null default 0,
  repeat_purchases integer not null default 0,
  repeat_revenue numeric not null default 0
);

comment on table private.analytics_lead_money is
  'Money attributed to one product lead (paid sales, credited product purchases). No foreign key to leads on '
  'purpose: the leads delete trigger needs these rows after the lead is gone, then removes them itself.';

create index analytics_lead_money_user_account_id_idx on private.analytics_lead_money (user_account_id);

create table private.analytics_repeat_credits (
  -- purchases.id as text: uuid in this schema, serial in products that had the table before amo-roi.
  purchase_id text primary key,
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  phone_e164 text not null,
  lead_id bigint not null,
  amount numeric not null
);

comment on table private.analytics_repeat_credits is
  'The lead each product-recorded purchase (purchases.amocrm_deal_id is null) is credited to, by phone.';

create index analytics_repeat_credits_phone_idx on private.analytics_repeat_credits (user_account_id, phone_e164);

create index analytics_repeat_credits_lead_id_idx on private.analytics_repeat_credits (lead_id);

alter table private.analytics_lead_daily enable row level security;

alter table private.analytics_lead_totals enable row level security;

alter table private.analytics_spend_totals enable row level security;

alter table private.analytics_lead_money enable row level security;

alter table private.analytics_repeat_credits enable row level security;

revoke all on private.analytics_lead_daily, private.analytics_lead_totals, private.analytics_spend_totals,
  private.analytics_lead_money, private.analytics_repeat_credits from public, anon, authenticated;

-- Members read the rollups through the security_invoker views and functions in public; nobody writes them
-- except the triggers (security definer).
grant select on private.analytics_lead_daily, private.analytics_lead_totals, private.analytics_spend_totals
  to authenticated;

grant select on private.analytics_lead_daily, private.analytics_lead_totals, private.analytics_spend_totals,
  private.analytics_lead_money, private.analytics_repeat_credits to service_role;

create policy "members select" on private.analytics_lead_daily for select to authenticated
  using (user_account_id in (select private.my_user_account_ids()));

create policy "members select" on private.analytics_lead_totals for select to authenticated
  using (user_account_id in (select private.my_user_account_ids()));

create policy "members select" on private.analytics_spend_totals for select to authenticated
  using (user_account_id in (select private.my_user_account_ids()));
