-- The rate formulas every funnel read uses, with null instead of a division by zero (the metric definitions:
-- README, "Metrics").
create or replace function private.percent_of(p_part numeric, p_whole numeric)
returns numeric
language sql
immutable
parallel safe
set search_path = ''
as $$
  select case when p_whole is null or p_whole = 0 then null else round(coalesce(p_part, 0) * 100 / p_whole, 2) end
$$;
comment on function private.percent_of(numeric, numeric) is
  'p_part / p_whole x 100, rounded to 2 decimals; null when p_whole is 0 or null.';
revoke all on function private.percent_of(numeric,numeric) from public;
grant execute on function private.percent_of(numeric,numeric) to authenticated;
grant execute on function private.percent_of(numeric,numeric) to service_role;

create or replace function private.cost_per(p_spend numeric, p_units numeric)
returns numeric
language sql
immutable
parallel safe
set search_path = ''
as $$
  select case when p_spend is null or p_spend = 0 or p_units is null or p_units = 0 then null
    else round(p_spend / p_units, 2) end
$$;
comment on function private.cost_per(numeric, numeric) is
  'Spend per unit (lead, qualified lead, conversion), rounded to 2 decimals; null without spend or without units.';
revoke all on function private.cost_per(numeric,numeric) from public;
grant execute on function private.cost_per(numeric,numeric) to authenticated;
grant execute on function private.cost_per(numeric,numeric) to service_role;

create or replace function private.roi_percent(p_revenue numeric, p_spend numeric)
returns numeric
language sql
immutable
parallel safe
set search_path = ''
as $$
  select case when p_spend is null or p_spend = 0 then null
    else round((coalesce(p_revenue, 0) - p_spend) * 100 / p_spend, 2) end
$$;
comment on function private.roi_percent(numeric, numeric) is
  '(revenue - spend) / spend x 100, rounded to 2 decimals; null without spend.';
revoke all on function private.roi_percent(numeric,numeric) from public;
grant execute on function private.roi_percent(numeric,numeric) to authenticated;
grant execute on function private.roi_percent(numeric,numeric) to service_role;

create or replace function private.funnel_basis(p_basis text)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_basis is null or p_basis not in ('lead_date', 'sale_date') then
    raise exception using errcode = '22023',
      message = format('p_basis must be lead_date or sale_date, not %s', coalesce(p_basis, 'null'));
  end if;
  return p_basis = 'sale_date';
end $$;
comment on function private.funnel_basis(text) is
  'True for the sale-date basis, false for the lead-date cohort; any other value is an error (22023).';
revoke all on function private.funnel_basis(text) from public;
grant execute on function private.funnel_basis(text) to authenticated;
grant execute on function private.funnel_basis(text) to service_role;

-- Spend for the cost metrics, converted into the revenue currency (the amoCRM account's) with the rate of each
-- spend day. All time, spend already in that currency comes from the totals; other currencies day by day.
create or replace function private.funnel_spend(
  p_user_account_id uuid,
  p_from date,
  p_to date,
  p_currency text
)
returns table (
  creative_id uuid, spend_date date, currency text, amount numeric, converted numeric, missing_rate_on date
)
language sql
stable
set search_path = ''
set jit = off
as $$
  select s.creative_id, null::date, s.currency, s.amount, s.amount, null::date
  from private.analytics_spend_totals s
  where p_from is null and p_to is null
    and s.user_account_id = p_user_account_id and s.spend_rows > 0
    and (p_currency is null or s.currency = p_currency)
  union all
  select d.creative_id, d.spend_date, d.currency, d.amount, d.amount * r.rate,
    case when r.rate is null then d.spend_date end
  from private.analytics_spend_totals s
  join public.ad_spend_daily d on d.creative_id = s.creative_id and d.currency = s.currency
  cross join lateral (select private.currency_rate(d.currency, p_currency, d.spend_date) as rate) r
  where p_from is null and p_to is null and p_currency is not null
    and s.user_account_id = p_user_account_id and s.spend_rows > 0 and s.currency <> p_currency
    and d.user_account_id = p_user_account_id
  union all
  select d.creative_id, d.spend_date, d.currency, d.amount, d.amount * r.rate,
    case when r.rate is null then d.spend_date end
  from public.ad_spend_daily d
  cross join lateral (
    select case when p_currency is null or d.currency = p_currency then 1::numeric
      else private.currency_rate(d.currency, p_currency, d.spend_date) end as rate
  ) r
  where (p_from is not null or p_to is not null)
    and d.user_account_id = p_user_account_id
    and d.spend_date between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
$$;
comment on function private.funnel_spend(uuid, date, date, text) is
  'Spend rows of an account for a spend-date range (null, null = all time: per creative and currency, foreign '
  'currencies per day): amount in its own currency, converted into p_currency (the revenue currency; null = '
  'unknown, then no conversion), and the spend day whose rate is missing (converted is then null).';
revoke all on function private.funnel_spend(uuid,date,date,text) from public;
grant execute on function private.funnel_spend(uuid,date,date,text) to authenticated;
grant execute on function private.funnel_spend(uuid,date,date,text) to service_role;

create or replace function private.roi_null_reason(
  p_has_spend boolean,
  p_cost_spend numeric,
  p_revenue_currency text,
  p_missing_rate_currency text,
  p_missing_rate_on date
)
returns text
language sql
stable
parallel safe
set search_path = ''
as $$
  select case
    when not p_has_spend then 'no spend'
    when p_missing_rate_on is not null then format('no %s→%s rate on or before %s', p_missing_rate_currency,
      p_revenue_currency, to_char(p_missing_rate_on, 'YYYY-MM-DD'))
    when p_revenue_currency is null then 'amoCRM account currency unknown'
    when p_cost_spend is null then 'spend in several currencies'
    when p_cost_spend = 0 then 'zero spend'
  end
$$;
comment on function private.roi_null_reason(boolean, numeric, text, text, date) is
  'Why roi (and, for a missing rate or no spend, cpl/cpql/cpa) is null: no spend, no exchange rate for a spend '
  'day, the amoCRM account''s currency not known yet, spend in several currencies, zero spend; null when roi is '
  'computed.';
revoke all on function private.roi_null_reason(boolean,numeric,text,text,date) from public;
grant execute on function private.roi_null_reason(boolean,numeric,text,text,date) to authenticated;
grant execute on function private.roi_null_reason(boolean,numeric,text,text,date) to service_role;
