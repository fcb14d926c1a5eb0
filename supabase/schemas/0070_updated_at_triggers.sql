-- updated_at follows every change on mutable tables.
create or replace function private.touch_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end $$;
comment on function private.touch_updated_at() is 'Trigger: set updated_at to now() on update.';
revoke all on function private.touch_updated_at() from public;

do $$
declare
  t regclass;
begin
  foreach t in array array[
    'public.user_accounts', 'public.directions', 'public.creatives', 'public.leads', 'public.purchases',
    'public.sales', 'public.amocrm_pipeline_stages', 'amocrm.connections', 'amocrm.jobs'
  ]::regclass[] loop
    execute format('drop trigger if exists touch_updated_at on %s', t);
    execute format(
      'create trigger touch_updated_at before update on %s for each row execute function private.touch_updated_at()', t);
  end loop;
end $$;
