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
