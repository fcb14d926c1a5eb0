-- Time zone names, the one check every stored zone passes (analytics days are local days of an account's zone).
create or replace function private.is_time_zone(p_name text)
returns boolean
language plpgsql
-- Immutable for the check constraint: the answer only changes with the server's time zone database.
immutable
parallel safe
set search_path = ''
as $$
begin
  -- An IANA name ('Europe/Moscow', 'Asia/Almaty', 'UTC'); POSIX strings such as 'UTC+3' (sign inverted) and
  -- abbreviations are refused even though Postgres would accept them.
  if p_name !~ '^[A-Za-z][A-Za-z_]*(/[A-Za-z0-9_+-]+)*$' then
    return false;
  end if;
  perform pg_catalog.timezone(p_name, timestamptz '2000-01-01 00:00+00');
  return true;
exception when invalid_parameter_value then
  return false;
end $$;
comment on function private.is_time_zone(text) is
  'True for a time zone name Postgres knows (IANA form such as Europe/Moscow or UTC); false otherwise.';
revoke all on function private.is_time_zone(text) from public;
grant execute on function private.is_time_zone(text) to authenticated;
grant execute on function private.is_time_zone(text) to service_role;
