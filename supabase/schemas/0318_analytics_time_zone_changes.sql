-- Analytics days are local days of the account's zone (private.analytics_time_zone: the account's own choice,
-- else its amoCRM account's, else UTC). When that zone changes, every lead and sale may fall on another day:
-- the account's rollups are rebuilt from scratch (private.analytics_rebuild) in the same transaction.
--   private.analytics_account_zone_changed()   trigger on public.user_accounts (analytics_timezone)
--   private.analytics_amocrm_zone_changed()    trigger on amocrm.connections (account_timezone, account)
create or replace function private.analytics_account_zone_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_amocrm_zone text := (select c.account_timezone from amocrm.connections c where c.user_account_id = new.id);
begin
  if coalesce(old.analytics_timezone, v_amocrm_zone, 'UTC') <> coalesce(new.analytics_timezone, v_amocrm_zone, 'UTC') then
    perform private.analytics_rebuild(new.id);
  end if;
  return null;
end $$;
comment on function private.analytics_account_zone_changed() is
  'Trigger (after update of analytics_timezone on user_accounts): rebuild the account''s rollups when the zone '
  'its analytics days follow changed.';
revoke all on function private.analytics_account_zone_changed() from public;

create trigger analytics_account_zone_changed after update of analytics_timezone on public.user_accounts
  for each row when (old.analytics_timezone is distinct from new.analytics_timezone)
  execute function private.analytics_account_zone_changed();

create or replace function private.analytics_amocrm_zone_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_old_zone text;
  v_new_zone text;
  v_own_zone text;
begin
  -- GUARD: an account with its own zone does not follow amoCRM's; an account being deleted needs nothing.
  if tg_op in ('UPDATE', 'DELETE') then
    select a.analytics_timezone into v_own_zone from public.user_accounts a where a.id = old.user_account_id;
    if found and v_own_zone is null then
      v_old_zone := coalesce(old.account_timezone, 'UTC');
      v_new_zone := case when tg_op = 'UPDATE' and new.user_account_id = old.user_account_id
        then coalesce(new.account_timezone, 'UTC') else 'UTC' end;
      if v_old_zone <> v_new_zone then
        perform private.analytics_rebuild(old.user_account_id);
      end if;
    end if;
  end if;
  if tg_op in ('INSERT', 'UPDATE') and (tg_op = 'INSERT' or new.user_account_id <> old.user_account_id) then
    select a.analytics_timezone into v_own_zone from public.user_accounts a where a.id = new.user_account_id;
    if found and v_own_zone is null and coalesce(new.account_timezone, 'UTC') <> 'UTC' then
      perform private.analytics_rebuild(new.user_account_id);
    end if;
  end if;
  return null;
end $$;
comment on function private.analytics_amocrm_zone_changed() is
  'Trigger (after insert/update/delete on amocrm.connections, when the amoCRM zone or the account changes): '
  'rebuild the rollups of an account that follows its amoCRM account''s zone when that zone changed.';
revoke all on function private.analytics_amocrm_zone_changed() from public;

create trigger analytics_amocrm_zone_inserted after insert on amocrm.connections
  for each row when (new.account_timezone is not null)
  execute function private.analytics_amocrm_zone_changed();

create trigger analytics_amocrm_zone_updated after update of account_timezone, user_account_id on amocrm.connections
  for each row
  when (old.account_timezone is distinct from new.account_timezone or old.user_account_id <> new.user_account_id)
  execute function private.analytics_amocrm_zone_changed();

create trigger analytics_amocrm_zone_deleted after delete on amocrm.connections
  for each row when (old.account_timezone is not null)
  execute function private.analytics_amocrm_zone_changed();
