-- Integration internals, in the non-exposed `amocrm` schema: one amoCRM connection per user account,
-- the webhook inbox (raw bodies and their parsed events) and the job queue. Only service_role touches them.
create table amocrm.connections (
  id uuid primary key default gen_random_uuid(),
  user_account_id uuid not null unique references public.user_accounts (id) on delete cascade,
  subdomain text not null,
  base_domain text not null default 'amocrm.ru' check (base_domain in ('amocrm.ru', 'amocrm.com', 'kommo.com')),
  -- Overrides https://{subdomain}.{base_domain}, e.g. to point at the local amoCRM simulator.
  api_base_url text,
  amocrm_account_id bigint,
  client_id text,
  client_secret text,
  redirect_uri text,
  token_kind text not null default 'oauth' check (token_kind in ('oauth', 'long_lived')),
  access_token text,
  refresh_token text,
  access_token_expires_at timestamptz,
  token_refreshed_at timestamptz,
  state text not null default 'pending'
    check (state in ('pending', 'active', 'reauth_required', 'account_unpaid', 'blocked', 'disconnected')),
  state_reason text,
  state_changed_at timestamptz not null default now(),
  breaker_open boolean not null default false,
  breaker_reason text,
  breaker_opened_at timestamptz,
  breaker_cooldown_until timestamptz,
  rate_limit_per_second numeric not null default 7 check (rate_limit_per_second > 0),
  webhook_key_version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  webhook_destination text,
  webhook_checked_at timestamptz,
  webhook_disabled_seen_at timestamptz,
  webhook_repaired_at timestamptz,
  webhook_repairs integer not null default 0,
  -- What GET /api/v4/account (?with=datetime_settings) says, read at connect and at every pipeline sync:
  -- revenue (deal prices) is in account_currency; account_timezone is the default zone of analytics days.
  account_currency text check (account_currency ~ '^[A-Z]{3}$'),
  account_currency_symbol text,
  account_timezone text check (private.is_time_zone(account_timezone)),
  account_settings_read_at timestamptz
);

create index connections_amocrm_account_id_idx on amocrm.connections (amocrm_account_id);

-- One row per webhook POST: the raw body exactly as amoCRM sent it and the events parsed from it, written in
-- one insert before the answer, so nothing amoCRM sent is ever lost and intake costs a single row.
create table amocrm.webhook_inbox (
  id bigint generated always as identity primary key,
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  received_at timestamptz not null default now(),
  content_type text,
  raw_body text not null,
  -- [{entity, action, amocrm_id, amocrm_ts, payload}], expanded into webhook_events by the apply step.
  events jsonb not null default '[]'::jsonb,
  event_count integer not null default 0,
  -- received: not applied yet · processed: every event applied or deduplicated · quarantined: unparseable.
  state text not null default 'received' check (state in ('received', 'processed', 'quarantined')),
  error text,
  created_at timestamptz not null default now()
);

create index webhook_inbox_user_account_id_idx on amocrm.webhook_inbox (user_account_id, received_at desc);

create index webhook_inbox_received_idx on amocrm.webhook_inbox (id) where state = 'received';

-- One row per entity per action of a POST, expanded from the inbox by the apply step. The dedupe key
-- (account, entity, action, id, amoCRM timestamp) makes a redelivered event a no-op.
create table amocrm.webhook_events (
  id bigint generated always as identity primary key,
  inbox_id bigint not null references amocrm.webhook_inbox (id) on delete cascade,
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  entity text not null check (entity in ('lead', 'contact')),
  action text not null,
  amocrm_id bigint not null,
  amocrm_ts bigint not null,
  dedupe_key text not null,
  payload jsonb not null,
  state text not null default 'pending' check (state in ('pending', 'applied', 'quarantined')),
  -- What applying did: applied, stale (older than the stored state), deleted, refetch, no_phone…
  outcome text,
  attempts integer not null default 0,
  error text,
  applied_at timestamptz,
  created_at timestamptz not null default now(),
  unique (user_account_id, dedupe_key)
);

create index webhook_events_inbox_id_idx on amocrm.webhook_events (inbox_id);

-- Background work (API confirmation of money events, backfill pages, reconciliation…).
create table amocrm.jobs (
  id bigint generated always as identity primary key,
  user_account_id uuid references public.user_accounts (id) on delete cascade,
  kind text not null,
  payload jsonb not null default '{}'::jsonb,
  -- At most one queued job per dedupe key: enqueueing the same work twice merges into it. A running job
  -- has already read its payload, so new work waits in a fresh queued job beside it.
  dedupe_key text,
  state text not null default 'queued' check (state in ('queued', 'running', 'done', 'failed', 'dead')),
  run_after timestamptz not null default now(),
  attempts integer not null default 0,
  max_attempts integer not null default 8,
  last_error text,
  locked_at timestamptz,
  locked_by text,
  finished_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index jobs_user_account_id_idx on amocrm.jobs (user_account_id);

create index jobs_runnable_idx on amocrm.jobs (kind, run_after) where state in ('queued', 'failed');

create unique index jobs_dedupe_key_idx on amocrm.jobs (dedupe_key) where state = 'queued';

-- Integration internals: RLS on with no policies, so only service_role (which bypasses RLS) reaches them.
alter table amocrm.connections enable row level security;
alter table amocrm.webhook_inbox enable row level security;
alter table amocrm.webhook_events enable row level security;
alter table amocrm.jobs enable row level security;

revoke all on amocrm.connections, amocrm.webhook_inbox, amocrm.webhook_events, amocrm.jobs
  from public, anon, authenticated;

grant all on amocrm.connections, amocrm.webhook_inbox, amocrm.webhook_events, amocrm.jobs to service_role;
