-- The connect flow's writes (amocrm-connect function): create or re-point a user account's amoCRM
-- connection before its first call, and record what the verification call learned.
--   private.upsert_amocrm_connection(…)   address, client credentials and (long-lived) token; not active yet
--   private.activate_amocrm_connection(…) verified: active, with the amoCRM account id and webhook destination
--   private.record_amocrm_account_settings(…) the account's currency and time zone (connect and every sync)
create or replace function private.upsert_amocrm_connection(
  p_user_account_id uuid,
  p_subdomain text,
  p_base_domain text,
  p_api_base_url text,
  p_client_id text,
  p_client_secret text,
  p_redirect_uri text,
  p_long_lived_token text default null,
  p_token_expires_at timestamptz default null
)
returns uuid
language sql
volatile
set search_path = ''
as $$
  insert into amocrm.connections as c (
    user_account_id, subdomain, base_domain, api_base_url, client_id, client_secret, redirect_uri,
    token_kind, access_token, refresh_token, access_token_expires_at, token_refreshed_at, state, state_reason
  ) values (
    p_user_account_id, lower(p_subdomain), p_base_domain, p_api_base_url, p_client_id, p_client_secret,
    p_redirect_uri,
    case when p_long_lived_token is null then 'oauth' else 'long_lived' end,
    p_long_lived_token, null, p_token_expires_at,
    case when p_long_lived_token is null then null else now() end,
    -- A long-lived token is usable at once (the verification call needs an active connection); an OAuth
    -- connection becomes active when its code is exchanged.
    case when p_long_lived_token is null then 'pending' else 'active' end,
    'connecting'
  )
  on conflict (user_account_id) do update set
    -- Another amoCRM account behind the same user account: the stored account id no longer applies.
    amocrm_account_id = case when c.subdomain = excluded.subdomain and c.base_domain = excluded.base_domain
      then c.amocrm_account_id end,
    subdomain = excluded.subdomain,
    base_domain = excluded.base_domain,
    api_base_url = excluded.api_base_url,
    client_id = coalesce(excluded.client_id, c.client_id),
    client_secret = coalesce(excluded.client_secret, c.client_secret),
    redirect_uri = coalesce(excluded.redirect_uri, c.redirect_uri),
    token_kind = case when p_long_lived_token is null then c.token_kind else 'long_lived' end,
    access_token = case when p_long_lived_token is null then c.access_token else p_long_lived_token end,
    refresh_token = case when p_long_lived_token is null then c.refresh_token end,
    access_token_expires_at = case when p_long_lived_token is null then c.access_token_expires_at
      else p_token_expires_at end,
    token_refreshed_at = case when p_long_lived_token is null then c.token_refreshed_at else now() end,
    -- Re-connecting the same account with a code keeps it working until the new code is exchanged: a code
    -- that turns out expired must not break a connection that was fine.
    state = case when p_long_lived_token is null and c.subdomain = excluded.subdomain
      and c.base_domain = excluded.base_domain then c.state else excluded.state end,
    state_reason = case when p_long_lived_token is null and c.subdomain = excluded.subdomain
      and c.base_domain = excluded.base_domain then c.state_reason else excluded.state_reason end,
    state_changed_at = case when p_long_lived_token is null and c.subdomain = excluded.subdomain
      and c.base_domain = excluded.base_domain then c.state_changed_at
      when c.state is distinct from excluded.state then now() else c.state_changed_at end,
    updated_at = now()
  returning c.id
$$;
comment on function private.upsert_amocrm_connection(uuid, text, text, text, text, text, text, text, timestamptz) is
  'Create or re-point the amoCRM connection of a user account (address, client credentials, or a long-lived '
  'token that makes it usable at once); OAuth connections stay pending until the code is exchanged.';
revoke all on function private.upsert_amocrm_connection(uuid,text,text,text,text,text,text,text,timestamp with time zone) from public;
grant execute on function private.upsert_amocrm_connection(uuid,text,text,text,text,text,text,text,timestamp with time zone) to service_role;

create or replace function private.activate_amocrm_connection(
  p_user_account_id uuid,
  p_amocrm_account_id bigint,
  p_webhook_destination text default null
)
returns void
language sql
volatile
set search_path = ''
as $$
  update amocrm.connections set
    amocrm_account_id = p_amocrm_account_id,
    webhook_destination = coalesce(p_webhook_destination, webhook_destination),
    state = 'active',
    state_reason = null,
    state_changed_at = case when state <> 'active' then now() else state_changed_at end,
    updated_at = now()
  where user_account_id = p_user_account_id
$$;
comment on function private.activate_amocrm_connection(uuid, bigint, text) is
  'The connect flow verified the connection: active, with the amoCRM account id and the webhook destination.';
revoke all on function private.activate_amocrm_connection(uuid,bigint,text) from public;
grant execute on function private.activate_amocrm_connection(uuid,bigint,text) to service_role;

create or replace function private.record_amocrm_account_settings(
  p_user_account_id uuid,
  p_currency text,
  p_currency_symbol text,
  p_timezone text
)
returns jsonb
language sql
volatile
set search_path = ''
as $$
  -- A value amoCRM did not send (or that is not a currency code / zone name) keeps what was known.
  update amocrm.connections set
    account_currency = coalesce(case when upper(p_currency) ~ '^[A-Z]{3}$' then upper(p_currency) end,
      account_currency),
    account_currency_symbol = coalesce(nullif(p_currency_symbol, ''), account_currency_symbol),
    account_timezone = coalesce(case when private.is_time_zone(p_timezone) then p_timezone end, account_timezone),
    account_settings_read_at = now(),
    updated_at = now()
  where user_account_id = p_user_account_id
  returning jsonb_build_object('currency', account_currency, 'currencySymbol', account_currency_symbol,
    'timezone', account_timezone)
$$;
comment on function private.record_amocrm_account_settings(uuid, text, text, text) is
  'Keep what GET /api/v4/account?with=datetime_settings says on the connection: currency, its symbol, time zone '
  '(read at connect and at every pipeline sync). A new zone rebuilds the analytics of an account that follows '
  'the amoCRM zone (trigger analytics_amocrm_time_zone_changed). Returns the stored settings.';
revoke all on function private.record_amocrm_account_settings(uuid,text,text,text) from public;
grant execute on function private.record_amocrm_account_settings(uuid,text,text,text) to service_role;
