-- Time to sale (requirements: Step 5, "how long a creative's leads take to buy"): the median of whole local days
-- from a lead's creation to its first paid sale, per creative or per direction, from one row per converted lead
-- (private.analytics_first_sales, 0316). A median is no sum of counters, so it is its own read, next to the
-- funnel RPCs rather than inside them (they stay on the counters).
--   public.time_to_sale(account, from, to, per, basis, direction)
-- Basis as in 0320: lead_date = leads created in the range; sale_date = leads whose first paid sale closed in it.
create or replace function private.time_to_sale_per(p_per text)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_per is null or p_per not in ('creative', 'direction') then
    raise exception using errcode = '22023',
      message = format('p_per must be creative or direction, not %s', coalesce(p_per, 'null'));
  end if;
  return p_per = 'creative';
end $$;
comment on function private.time_to_sale_per(text) is
  'True for rows per creative, false per direction; any other value is an error (22023).';
revoke all on function private.time_to_sale_per(text) from public;
grant execute on function private.time_to_sale_per(text) to authenticated;
grant execute on function private.time_to_sale_per(text) to service_role;

create or replace function public.time_to_sale(
  p_user_account_id uuid,
  p_from date default null,
  p_to date default null,
  p_per text default 'creative',
  p_basis text default 'lead_date',
  p_direction_id uuid default null
)
returns table (
  creative_id uuid,
  creative_name text,
  direction_id uuid,
  direction_name text,
  converted_leads bigint,
  time_to_sale_days numeric
)
language sql
stable
set search_path = ''
set jit = off
as $$
  with scope as (
    -- All time or the lead-date basis: by the lead's day; the sale-date basis: by its first sale's day.
    select f.creative_id, f.direction_id, f.sale_day - f.lead_day as days
    from private.analytics_first_sales f
    where (p_from is null and p_to is null or p_basis = 'lead_date')
      and f.user_account_id = p_user_account_id
      and f.lead_day between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
      and (p_direction_id is null or f.direction_id = p_direction_id)
    union all
    select f.creative_id, f.direction_id, f.sale_day - f.lead_day
    from private.analytics_first_sales f
    where (p_from is not null or p_to is not null) and p_basis = 'sale_date'
      and f.user_account_id = p_user_account_id
      and f.sale_day between coalesce(p_from, '-infinity'::date) and coalesce(p_to, 'infinity'::date)
      and (p_direction_id is null or f.direction_id = p_direction_id)
  ), medians as (
    select case when p_per = 'creative' then s.creative_id end as creative_id,
      case when p_per = 'direction' then s.direction_id end as direction_id,
      count(*) as converted_leads,
      percentile_cont(0.5) within group (order by s.days) as days
    from scope s
    group by 1, 2
  )
  select m.creative_id, c.name, coalesce(m.direction_id, c.direction_id), d.name, m.converted_leads,
    round(m.days::numeric, 1)
  from medians m
  left join public.creatives c on c.id = m.creative_id
  left join public.directions d on d.id = coalesce(m.direction_id, c.direction_id)
  where private.funnel_basis(p_basis) is not null and private.time_to_sale_per(p_per) is not null
  order by m.converted_leads desc, 1 nulls last, 3 nulls last
$$;
comment on function public.time_to_sale(uuid, date, date, text, text, uuid) is
  'Median whole local days from lead creation to first paid sale, per creative (p_per creative; creative_id null = '
  'leads without one) or per direction, over the leads created in the range (p_basis lead_date) or first bought '
  'in it (sale_date); converted_leads = how many leads the median is over. Runs as the caller (RLS).';
revoke all on function public.time_to_sale(uuid,date,date,text,text,uuid) from public;
grant execute on function public.time_to_sale(uuid,date,date,text,text,uuid) to authenticated;
grant execute on function public.time_to_sale(uuid,date,date,text,text,uuid) to service_role;
