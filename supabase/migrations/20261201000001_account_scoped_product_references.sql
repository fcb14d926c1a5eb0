-- Hand-written, and run before the generated schema migration: the product's own references stay inside a
-- user account. On a database that already holds the product's data, a creative may point at a direction of
-- another account, or a lead at another account's creative or direction. A diff cannot say "report, don't
-- change", so this file adds the composite keys (creative/direction, user_account_id) → (id, user_account_id)
-- NOT VALID (enforced for every new write), lists the rows that break the rule as a WARNING, leaves them as they
-- are, and validates each constraint that has none (a clean or new database gets all of them validated). Fix
-- the rows, then `alter table … validate constraint …`. The same keys on amo-roi's own tables (sales, deals,
-- history, ad spend: new, so empty) come from supabase/schemas/ through the generated migration.

-- STEP: targets of the composite references.
alter table public.directions add constraint directions_id_account_key unique (id, user_account_id);

alter table public.creatives add constraint creatives_id_account_key unique (id, user_account_id);

alter table public.leads add constraint leads_id_account_key unique (id, user_account_id);

-- STEP: the composite references, NOT VALID: enforced for new writes, existing rows checked below.
alter table public.creatives add constraint creatives_direction_same_account_fkey foreign key (direction_id, user_account_id)
  references public.directions (id, user_account_id) on delete set null (direction_id) not valid;

alter table public.leads add constraint leads_creative_same_account_fkey foreign key (creative_id, user_account_id)
  references public.creatives (id, user_account_id) on delete set null (creative_id) not valid;

alter table public.leads add constraint leads_direction_same_account_fkey foreign key (direction_id, user_account_id)
  references public.directions (id, user_account_id) on delete set null (direction_id) not valid;

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
      ('public.leads', 'leads_direction_same_account_fkey', 'direction_id', 'public.directions')
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
