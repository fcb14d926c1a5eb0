-- Hand-written: every reference a row can hold stays inside the row's user account. A foreign key on lead_id
-- alone ignores accounts (and RLS), so a sale of account A could point at a lead of account B and the rollup
-- booked A's money to B. The references become composite: (lead_id, user_account_id) → leads (id,
-- user_account_id), the same for creatives and directions. supabase/schemas/ declares the result; this file
-- exists because a diff cannot say "report, don't change": on a database that already holds the product's data,
-- rows that break the rule are listed (WARNING) and left as they are, and their constraint stays NOT VALID
-- (still enforced for every new write) until they are fixed and `alter table … validate constraint …` is run.
-- A clean database gets every constraint validated here. Objects: *_id_account_key (targets), *_same_account_fkey.

-- STEP: targets of the composite references.
alter table public.directions add constraint directions_id_account_key unique (id, user_account_id);

alter table public.creatives add constraint creatives_id_account_key unique (id, user_account_id);

alter table public.leads add constraint leads_id_account_key unique (id, user_account_id);

-- STEP: our own single-column references give way to the composite ones (the product's own creative/direction
-- keys on leads and creatives stay; the composite ones are added beside them).
alter table public.sales drop constraint if exists sales_lead_id_fkey;

alter table public.amocrm_deals drop constraint if exists amocrm_deals_lead_id_fkey;

alter table public.amocrm_lead_status_history drop constraint if exists amocrm_lead_status_history_lead_id_fkey;

alter table public.ad_spend_daily drop constraint if exists ad_spend_daily_creative_id_fkey;

-- STEP: the composite references, NOT VALID: enforced for new writes, existing rows checked below.
alter table public.creatives add constraint creatives_direction_same_account_fkey foreign key (direction_id, user_account_id)
  references public.directions (id, user_account_id) on delete set null (direction_id) not valid;

alter table public.leads add constraint leads_creative_same_account_fkey foreign key (creative_id, user_account_id)
  references public.creatives (id, user_account_id) on delete set null (creative_id) not valid;

alter table public.leads add constraint leads_direction_same_account_fkey foreign key (direction_id, user_account_id)
  references public.directions (id, user_account_id) on delete set null (direction_id) not valid;

alter table public.sales add constraint sales_lead_same_account_fkey foreign key (lead_id, user_account_id)
  references public.leads (id, user_account_id) on delete set null (lead_id) not valid;

alter table public.amocrm_deals add constraint amocrm_deals_lead_same_account_fkey foreign key (lead_id, user_account_id)
  references public.leads (id, user_account_id) on delete set null (lead_id) not valid;

alter table public.amocrm_lead_status_history add constraint amocrm_lead_status_history_lead_same_account_fkey
  foreign key (lead_id, user_account_id) references public.leads (id, user_account_id) on delete cascade not valid;

alter table public.ad_spend_daily add constraint ad_spend_daily_creative_same_account_fkey foreign key (creative_id, user_account_id)
  references public.creatives (id, user_account_id) on delete cascade not valid;

-- STEP: report the rows that break the rule; validate each constraint that has none.
do $$
declare
  r record;
  v_bad bigint;
  v_sample text;
begin
  for r in
    select * from (values
      ('public.creatives', 'creatives_direction_same_account_fkey', 'direction_id', 'public.directions'),
      ('public.leads', 'leads_creative_same_account_fkey', 'creative_id', 'public.creatives'),
      ('public.leads', 'leads_direction_same_account_fkey', 'direction_id', 'public.directions'),
      ('public.sales', 'sales_lead_same_account_fkey', 'lead_id', 'public.leads'),
      ('public.amocrm_deals', 'amocrm_deals_lead_same_account_fkey', 'lead_id', 'public.leads'),
      ('public.amocrm_lead_status_history', 'amocrm_lead_status_history_lead_same_account_fkey', 'lead_id', 'public.leads'),
      ('public.ad_spend_daily', 'ad_spend_daily_creative_same_account_fkey', 'creative_id', 'public.creatives')
    ) v (child, constraint_name, col, target)
  loop
    execute format(
      'select count(*), string_agg(x.row_text, E''\n'') filter (where x.n <= 50)
       from (select row_number() over () as n, t::text as row_text from %1$s t
             where t.%2$I is not null and t.user_account_id is not null
               and not exists (select 1 from %3$s p where p.id = t.%2$I and p.user_account_id = t.user_account_id)) x',
      r.child, r.col, r.target) into v_bad, v_sample;
    if v_bad = 0 then
      execute format('alter table %s validate constraint %I', r.child, r.constraint_name);
    else
      raise warning using message = format(
        '%s: %s row(s) reference a %s of another user account; left unchanged, %s stays NOT VALID '
        '(fix them, then: alter table %s validate constraint %s). First rows:%s%s',
        r.child, v_bad, r.target, r.constraint_name, r.child, r.constraint_name, E'\n', v_sample);
    end if;
  end loop;
end $$;
