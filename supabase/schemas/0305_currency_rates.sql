-- Currency rates, so that spend in the ad platform's currency can be set against revenue in the amoCRM
-- account's currency (ROI, cpl, cpql, cpa are computed in one currency only).
--   public.currency_rates            one rate per day and currency pair, written by the service (e.g. a daily
--                                    central-bank import); members read it (RLS)
--   private.currency_rate(…)         the rate that converts an amount of one day: that day's or the latest before
--   private.account_money_settings() the account's revenue currency and analytics time zone, for the funnel reads
create table public.currency_rates (
  rate_date date not null,
  from_currency text not null check (from_currency ~ '^[A-Z]{3}$'),
  to_currency text not null check (to_currency ~ '^[A-Z]{3}$'),
  -- 1 from_currency = rate to_currency.
  rate numeric not null check (rate > 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint currency_rates_pkey primary key (from_currency, to_currency, rate_date),
  constraint currency_rates_distinct_pair check (from_currency <> to_currency)
);

comment on table public.currency_rates is
  'Exchange rates by day: 1 from_currency = rate to_currency on rate_date. Spend is converted into the amoCRM '
  'account''s currency with the rate of its spend day (or the latest earlier one).';

create trigger touch_updated_at before update on public.currency_rates
  for each row execute function private.touch_updated_at();

alter table public.currency_rates enable row level security;

revoke all on public.currency_rates from anon, authenticated;

grant select on public.currency_rates to authenticated;

grant all on public.currency_rates to service_role;

-- Rates are public facts, not tenant data: every signed-in user reads all of them.
create policy "signed-in select" on public.currency_rates for select to authenticated using (true);

create or replace function private.currency_rate(p_from text, p_to text, p_on date)
returns numeric
language sql
stable
set search_path = ''
as $$
  -- The same currency converts at 1; otherwise the pair's rate of that day or the latest before it (weekends,
  -- holidays), the inverse pair's when only that one is recorded; null when there is none.
  select case when p_from = p_to then 1::numeric else coalesce(
    (select r.rate from public.currency_rates r
     where r.from_currency = p_from and r.to_currency = p_to and r.rate_date <= p_on
     order by r.rate_date desc limit 1),
    (select 1 / r.rate from public.currency_rates r
     where r.from_currency = p_to and r.to_currency = p_from and r.rate_date <= p_on
     order by r.rate_date desc limit 1)) end
$$;
comment on function private.currency_rate(text, text, date) is
  'How many p_to one p_from is worth on p_on: 1 for the same currency, else the latest rate dated on or before '
  'p_on (direct pair first, then the inverse of the reverse pair); null when no rate is recorded.';
revoke all on function private.currency_rate(text,text,date) from public;
grant execute on function private.currency_rate(text,text,date) to authenticated;
grant execute on function private.currency_rate(text,text,date) to service_role;

create or replace function private.account_money_settings(p_user_account_id uuid)
returns table (currency text, time_zone text)
language sql
stable
security definer
set search_path = ''
as $$
  -- The connection is not readable by members, so this is security definer; it answers a caller only for the
  -- accounts they belong to (the service role and the database owner for any: the session's role decides, never
  -- a JWT claim).
  select c.account_currency, coalesce(a.analytics_timezone, c.account_timezone, 'UTC')
  from public.user_accounts a
  left join amocrm.connections c on c.user_account_id = a.id
  where a.id = p_user_account_id
    and (private.caller_is_service() or a.id in (select private.my_user_account_ids()))
$$;
comment on function private.account_money_settings(uuid) is
  'An account''s revenue currency (the amoCRM account''s, null until read) and the time zone of its analytics '
  'days (its own choice, else the amoCRM account''s, else UTC). Members only see their own accounts.';
revoke all on function private.account_money_settings(uuid) from public;
grant execute on function private.account_money_settings(uuid) to authenticated;
grant execute on function private.account_money_settings(uuid) to service_role;
