-- Phone normalization to E.164, the one rule every phone match in the database uses. Raw values stay as
-- typed; the normalized value sits next to them (kept by triggers, see 0020/0275) so matching is an index
-- lookup. The rule is libphonenumber's, ported to SQL with its numbering plans (private.phone_metadata):
--   * a written country code wins: '+84 912 345 678' is Vietnamese, whatever the account's country;
--   * an international prefix counts as one: '00' everywhere, and the region's own (810 in Russia);
--   * a national number takes the account's default country (user_accounts.default_phone_country): its trunk
--     prefix goes ('8 (912) …' in RU/KZ, '0 67 …' in UA), and Russia and Kazakhstan share +7;
--   * WhatsApp chat ids ('79123456789@s.whatsapp.net') are international numbers without the '+';
--   * extensions ('доб. 123', 'ext 12', '#3') are dropped;
--   * what is not a phone in that plan (too short, too long, a pattern no region has, junk) is null.
-- tests/integration/phone/normalize_phone_matches_libphonenumber.test.ts compares it with libphonenumber-js.

-- Length check as libphonenumber's checkNumberLength: IS_POSSIBLE, TOO_SHORT, TOO_LONG or INVALID_LENGTH.
create or replace function private.phone_length_check(p_number text, p_plan jsonb)
returns text
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
  v_lengths jsonb := p_plan -> 3;
  v_len integer := length(p_number);
begin
  if v_lengths is null or jsonb_array_length(v_lengths) = 0 then
    return 'IS_POSSIBLE';
  end if;
  return case
    when v_len = (v_lengths ->> 0)::integer then 'IS_POSSIBLE'
    when v_len < (v_lengths ->> 0)::integer then 'TOO_SHORT'
    when v_len > (v_lengths ->> -1)::integer then 'TOO_LONG'
    when v_lengths @> to_jsonb(v_len) then 'IS_POSSIBLE'
    else 'INVALID_LENGTH'
  end;
end $$;
comment on function private.phone_length_check(text, jsonb) is
  'Whether a national number has a possible length in a numbering plan (libphonenumber''s checkNumberLength).';
revoke all on function private.phone_length_check(text, jsonb) from public;
grant execute on function private.phone_length_check(text, jsonb) to service_role;

-- The national significant number: the trunk prefix stripped (libphonenumber's extractNationalNumber),
-- unless stripping turns a number that fits the plan into one that does not.
create or replace function private.phone_national_number(p_number text, p_plan jsonb)
returns text
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
  v_prefix text := p_plan ->> 4;
  v_transform text := p_plan ->> 5;
  v_pattern text := '^(?:' || (p_plan ->> 2) || ')$';
  v_match text[];
  v_national text;
begin
  if v_prefix is null then
    return p_number;
  end if;
  v_match := regexp_match(p_number, '^((?:' || v_prefix || '))');
  if v_match is null then
    return p_number;
  end if;
  if v_transform is not null and cardinality(v_match) > 1 and v_match[cardinality(v_match)] is not null then
    -- The plan rewrites the captured part ('$1' → '\1' in Postgres).
    v_national := regexp_replace(p_number, '^(?:' || v_prefix || ')', regexp_replace(v_transform, '\$(\d)', '\\\1', 'g'));
  else
    v_national := substr(p_number, length(v_match[1]) + 1);
  end if;
  if p_number ~ v_pattern and v_national !~ v_pattern then
    return p_number;
  end if;
  if private.phone_length_check(v_national, p_plan) in ('TOO_SHORT', 'INVALID_LENGTH') then
    return p_number;
  end if;
  return v_national;
end $$;
comment on function private.phone_national_number(text, jsonb) is
  'A number without its trunk prefix, as libphonenumber''s extractNationalNumber does it for a numbering plan.';
revoke all on function private.phone_national_number(text, jsonb) from public;
grant execute on function private.phone_national_number(text, jsonb) to service_role;

create or replace function private.normalize_phone(raw text, p_default_country text default 'RU')
returns text
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
  -- libphonenumber's punctuation and extension labels (createExtensionPattern), plus the Russian labels
  -- 'добавочный', 'доп.' and 'вн.' it does not know.
  c_punct constant text := '-‐-―−ー－／/．. ' || chr(160) || chr(173) || chr(8203) || chr(8288) || chr(12288)
    || '()（）［］\[\]~⁓∼～';
  c_ext constant text := ';ext=(\d{1,20})'
    || '|[ ' || chr(160) || '\t,]*(?:e?xt(?:ensi(?:ó|ó)?n)?n?|ｅ?ｘｔｎ?|добавочный|доб|доп|вн|anexo)'
      || '[:.．]?[ ' || chr(160) || '\t,-]*(\d{1,20})#?'
    || '|[ ' || chr(160) || '\t,]*(?:[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[ ' || chr(160) || '\t,-]*(\d{1,9})#?'
    || '|[- ]+(\d{1,6})#'
    || '|[ ' || chr(160) || '\t]*(?:,{2}|;)[:.．]?[ ' || chr(160) || '\t,-]*(\d{1,15})#?'
    || '|[ ' || chr(160) || '\t]*(?:,)+[:.．]?[ ' || chr(160) || '\t,-]*(\d{1,9})#?';
  v_meta jsonb := private.phone_metadata();
  v_plan jsonb := v_meta #> array['regions', upper(coalesce(p_default_country, 'RU'))];
  v_text text;
  v_digits text;
  v_plus boolean;
  v_cc text;
  v_number text;
  v_rest text;
  v_nsn text;
  v_i integer;
begin
  if raw is null or v_plan is null then
    return null;
  end if;
  -- Fullwidth and Arabic-Indic digits are digits.
  v_text := translate(raw, '０１２３４５６７８９٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹＋', '012345678901234567890123456789+');

  -- STEP: a WhatsApp chat id is the international number before '@'; any other '@' (group, e-mail) is not a phone.
  if v_text ~ '^\s*\+?\d{6,}@(s\.whatsapp\.net|c\.us)\s*$' then
    v_text := '+' || substring(v_text from '\d+');
  elsif position('@' in v_text) > 0 then
    return null;
  end if;

  -- STEP: the number in the text (from the first '+' or digit to the last digit), viable, extension dropped.
  v_text := regexp_replace(substring(v_text from '[+0-9].*$'), '[^0-9#]+$', '');
  if v_text is null then
    return null;
  end if;
  -- Digits with plain punctuation (most phones) are viable and carry no extension: skip the long patterns.
  if v_text !~ '^\+?[-0-9 ().]*$' or v_text ~ '^\+?[^0-9]*[0-9]?[^0-9]*$' then
    if v_text !~* ('^(?:\d{2}|\+?(?:[' || c_punct || ']*\d){3,}[' || c_punct || '0-9]*(?:' || c_ext || ')?)$') then
      return null;
    end if;
    v_text := regexp_replace(v_text, '(?:' || c_ext || ')$', '', 'i');
  end if;
  v_plus := left(v_text, 1) = '+';
  v_digits := regexp_replace(v_text, '\D', '', 'g');

  -- STEP: the country calling code — written ('+', an international prefix), or the default country's.
  if not v_plus then
    v_rest := regexp_replace(v_digits, '^(?:' || (v_plan ->> 1) || '|00)', '');
    if v_rest <> v_digits and left(v_rest, 1) <> '0' then
      v_plus := true;
      v_digits := v_rest;
    end if;
  end if;
  if v_plus then
    if left(v_digits, 1) = '0' then
      return null;
    end if;
    for v_i in 1..3 loop
      -- (#> extracts one value; -> 'regions' would copy the whole regions object first.)
      if v_meta #> array['calling_codes', left(v_digits, v_i)] is not null then
        v_cc := left(v_digits, v_i);
        v_number := substr(v_digits, v_i + 1);
        v_plan := v_meta #> array['regions', v_meta #>> array['calling_codes', v_cc, '0']];
        exit;
      end if;
    end loop;
    if v_cc is null then
      return null;
    end if;
  else
    v_cc := v_plan ->> 0;
    v_number := v_digits;
    -- The default country's code written without '+' ('79123456789' in RU): taken as such when the number
    -- does not fit the plan as it is but does without the code, or is too long for it.
    if left(v_digits, length(v_cc)) = v_cc then
      v_rest := substr(v_digits, length(v_cc) + 1);
      v_nsn := private.phone_national_number(v_digits, v_plan);
      if (v_nsn !~ ('^(?:' || (v_plan ->> 2) || ')$')
          and private.phone_national_number(v_rest, v_plan) ~ ('^(?:' || (v_plan ->> 2) || ')$'))
         or private.phone_length_check(v_nsn, v_plan) = 'TOO_LONG' then
        v_number := v_rest;
      end if;
    end if;
  end if;

  -- STEP: the national number, valid in some region of that calling code.
  v_nsn := private.phone_national_number(v_number, v_plan);
  if length(v_nsn) not between 2 and 17 then
    return null;
  end if;
  for v_i in 0 .. jsonb_array_length(v_meta #> array['calling_codes', v_cc]) - 1 loop
    if v_nsn ~ ('^(?:' || (v_meta #>> array['regions', v_meta #>> array['calling_codes', v_cc, v_i::text], '2']) || ')$') then
      return '+' || v_cc || v_nsn;
    end if;
  end loop;
  return null;
end $$;
comment on function private.normalize_phone(text, text) is
  'E.164 form of a phone as typed (written country code wins; a national number takes p_default_country; '
  'WhatsApp chat ids; extensions dropped), or null when it is not a phone. libphonenumber''s rule.';
revoke all on function private.normalize_phone(text, text) from public;
grant execute on function private.normalize_phone(text, text) to service_role;

-- The country a national number is read in, per user account (Russia and Kazakhstan share +7).
create or replace function private.account_phone_country(p_user_account_id uuid)
returns text
language plpgsql
stable
parallel safe
security definer
set search_path = ''
as $$
begin
  return coalesce((select a.default_phone_country from public.user_accounts a where a.id = p_user_account_id), 'RU');
end $$;
comment on function private.account_phone_country(uuid) is
  'The default phone country of a user account (user_accounts.default_phone_country), RU when unknown. '
  'Security definer: a lead insert by a member reads it whatever that member may see.';
revoke all on function private.account_phone_country(uuid) from public;
grant execute on function private.account_phone_country(uuid) to service_role;

-- The normalized phone columns of leads, sales and purchases depend on the account's default country, which a
-- generated column cannot read: a BEFORE trigger keeps them on every insert and update (the product inserts
-- leads straight into Postgres, so no insert path can skip it, nor write another value).
create or replace function private.normalize_row_phones()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_country text := private.account_phone_country(new.user_account_id);
begin
  if tg_table_name = 'leads' then
    new.phone_e164 := coalesce(private.normalize_phone(new.phone, v_country), private.normalize_phone(new.chat_id, v_country));
  else
    new.client_phone_e164 := private.normalize_phone(new.client_phone, v_country);
  end if;
  return new;
end $$;
comment on function private.normalize_row_phones() is
  'Trigger (before insert/update on leads, sales, purchases): the E.164 phone column from the raw phone, read '
  'in the account''s default country.';
revoke all on function private.normalize_row_phones() from public;

-- When an account changes its default country, its stored national numbers are read again (the phone
-- columns' own triggers do it, and deals are relinked through leads' link trigger).
create or replace function private.renormalize_account_phones()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.leads set phone = phone where user_account_id = new.id;
  update public.sales set client_phone = client_phone where user_account_id = new.id;
  update public.purchases set client_phone = client_phone where user_account_id = new.id;
  return null;
end $$;
comment on function private.renormalize_account_phones() is
  'Trigger (after update of user_accounts.default_phone_country): re-read the account''s stored phones.';
revoke all on function private.renormalize_account_phones() from public;
