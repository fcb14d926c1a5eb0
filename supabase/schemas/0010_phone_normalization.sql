-- Phone normalization to E.164, the one rule every phone match in the database uses.
-- Raw values stay as typed (`+7 912 345-67-89`, `8 (912) 345-67-89`, `79123456789@s.whatsapp.net`);
-- the normalized value sits next to them in generated columns so matching is an index lookup.
create or replace function private.normalize_phone(raw text)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$
  with digits as (
    -- WhatsApp chat ids carry the number before '@'; everything that is not a digit is noise.
    select regexp_replace(split_part(coalesce(raw, ''), '@', 1), '\D', '', 'g') as d
  ), national as (
    select case
      -- Russian/Kazakh trunk prefix: 8XXXXXXXXXX is +7XXXXXXXXXX.
      when length(d) = 11 and left(d, 1) = '8' then '7' || substr(d, 2)
      -- Ten digits starting with 9 are a Russian mobile number written without the country code.
      when length(d) = 10 and left(d, 1) = '9' then '7' || d
      else d
    end as d
    from digits
  )
  -- E.164 allows 8..15 digits after '+'; anything shorter (extensions like `2001`) is not a phone.
  select case when length(d) between 8 and 15 then '+' || d end from national
$$;
comment on function private.normalize_phone(text) is
  'E.164 form of a phone as typed (spaces, dashes, 8-prefix, WhatsApp chat id), or null when it is not a phone.';
revoke all on function private.normalize_phone(text) from public;
grant execute on function private.normalize_phone(text) to authenticated;
grant execute on function private.normalize_phone(text) to service_role;
