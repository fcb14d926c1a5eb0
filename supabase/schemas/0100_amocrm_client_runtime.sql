-- amoCRM API client runtime: what every function instance shares when it talks to amoCRM.
--
-- Objects:
--   amocrm.rate_buckets                 one token bucket per amoCRM account (shared by all instances)
--   amocrm.api_calls                    one cheap trace row per logical API call
--   private.amocrm_take_rate_token()    atomically take a token from a bucket, or say how long to wait
--   private.amocrm_pause_rate_bucket() after a 429: no instance gets a token for a while
--   private.amocrm_begin_call()         the gate before every HTTP call: state, circuit breaker, rate token,
--                                       current access token — one round trip
--   private.amocrm_open_breaker()       open the circuit breaker of a connection (403 from amoCRM)
--   private.amocrm_close_breaker()      operator: close it again
--   private.amocrm_set_connection_state() state + reason + state_changed_at in one place
--   private.amocrm_prune_api_calls()    retention for the trace table
--

-- ---------------------------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------------------------
create table amocrm.rate_buckets (
  bucket_key text primary key,
  tokens double precision not null,
  capacity double precision not null default 1,
  refilled_at timestamptz not null default clock_timestamp(),
  created_at timestamptz not null default now()
);

comment on table amocrm.rate_buckets is
  'Token bucket per amoCRM account (key = "<subdomain>.<base_domain>"), shared by every function instance so that '
  'all of them together stay under the account''s request rate. Written only by private.amocrm_take_rate_token(); '
  'refilled_at doubles as the "last touched" time, so there is no updated_at trigger on this hot row.';

comment on column amocrm.rate_buckets.tokens is 'Tokens left at refilled_at (fractional; refills continuously).';

comment on column amocrm.rate_buckets.capacity is 'Burst size. 1 = requests evenly spaced, the safest against a per-second window.';

alter table amocrm.rate_buckets enable row level security;

revoke all on table amocrm.rate_buckets from public, anon, authenticated;

grant select, insert, update, delete on table amocrm.rate_buckets to service_role;

create table amocrm.api_calls (
  id bigint generated always as identity primary key,
  connection_id uuid not null references amocrm.connections (id) on delete cascade,
  amocrm_account_id bigint,
  method text not null,
  endpoint text not null,
  status integer,
  duration_ms integer not null,
  retries integer not null default 0,
  error_kind text,
  error_message text,
  created_at timestamptz not null default now()
);

comment on table amocrm.api_calls is
  'Trace of amoCRM API calls made by the shared client: one row per logical call (retries folded into "retries"). '
  'Append-only and deliberately narrow; pruned by private.amocrm_prune_api_calls().';

comment on column amocrm.api_calls.endpoint is 'Path without query string, e.g. /api/v4/leads (query strings can hold 250 ids).';

comment on column amocrm.api_calls.status is 'HTTP status of the last attempt; null when no response came (network error, timeout, breaker).';

comment on column amocrm.api_calls.retries is 'Attempts after the first one (429/5xx/timeouts, batch shrinks, token refresh on 401).';

comment on column amocrm.api_calls.error_kind is 'Client error class name (e.g. AmoCrmRateLimitError) when the call failed.';

-- Also serves the foreign key.
create index api_calls_connection_id_created_at_idx
  on amocrm.api_calls (connection_id, created_at);

alter table amocrm.api_calls enable row level security;

revoke all on table amocrm.api_calls from public, anon, authenticated;

grant select, insert, delete on table amocrm.api_calls to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- Rate limit: token bucket
-- ---------------------------------------------------------------------------------------------------------------
create or replace function private.amocrm_take_rate_token(
  p_bucket_key text,
  p_rate_per_second double precision,
  p_capacity double precision default 1
)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_bucket amocrm.rate_buckets;
  v_now timestamptz;
  v_tokens double precision;
begin
  -- GUARD: nonsense parameters would divide by zero or never refill.
  if p_rate_per_second is null or p_rate_per_second <= 0 or p_capacity is null or p_capacity < 1 then
    raise exception using errcode = '22023', message = 'amocrm_take_rate_token: rate must be > 0 and capacity >= 1';
  end if;

  -- The row lock serialises concurrent takers of the same bucket, across every connection/process.
  select * into v_bucket from amocrm.rate_buckets b where b.bucket_key = p_bucket_key for update;
  if not found then
    insert into amocrm.rate_buckets (bucket_key, tokens, capacity, refilled_at)
    values (p_bucket_key, p_capacity, p_capacity, clock_timestamp())
    on conflict (bucket_key) do nothing;
    select * into v_bucket from amocrm.rate_buckets b where b.bucket_key = p_bucket_key for update;
  end if;

  -- clock_timestamp(), not now(): now() is frozen at transaction start, before we waited for the lock.
  v_now := clock_timestamp();
  v_tokens := least(
    p_capacity,
    v_bucket.tokens + greatest(0, extract(epoch from (v_now - v_bucket.refilled_at))) * p_rate_per_second
  );

  if v_tokens >= 1 then
    update amocrm.rate_buckets
       set tokens = v_tokens - 1, capacity = p_capacity, refilled_at = v_now
     where bucket_key = p_bucket_key;
    return 0;
  end if;

  update amocrm.rate_buckets
     set tokens = v_tokens, capacity = p_capacity, refilled_at = v_now
   where bucket_key = p_bucket_key;
  -- Milliseconds until one whole token is there; at least 1 so that 0 always means "granted".
  return greatest(1, ceil((1 - v_tokens) / p_rate_per_second * 1000))::integer;
end;
$$;
comment on function private.amocrm_take_rate_token(text, double precision, double precision) is
  'Atomically takes one token from the bucket p_bucket_key (refilling at p_rate_per_second up to p_capacity). '
  'Returns 0 when a token was taken, otherwise the milliseconds to wait before asking again. Safe under concurrency: '
  'the bucket row is locked for the duration of the call.';
revoke all on function private.amocrm_take_rate_token(text,double precision,double precision) from public;
grant execute on function private.amocrm_take_rate_token(text,double precision,double precision) to service_role;

create or replace function private.amocrm_pause_rate_bucket(p_connection_id uuid, p_pause_ms integer)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_key text;
  v_rate double precision;
  v_now timestamptz := clock_timestamp();
begin
  select lower(c.subdomain || '.' || c.base_domain), greatest(0.1, coalesce(c.rate_limit_per_second, 7)::double precision)
    into v_key, v_rate
    from amocrm.connections c
   where c.id = p_connection_id;
  if not found or p_pause_ms is null or p_pause_ms <= 0 then
    return;
  end if;
  -- A negative balance means "no token for p_pause_ms": refill reaches 1 token exactly then.
  update amocrm.rate_buckets b
     set tokens = least(
           b.tokens + greatest(0, extract(epoch from (v_now - b.refilled_at))) * v_rate,
           1 - v_rate * p_pause_ms / 1000.0
         ),
         refilled_at = v_now
   where b.bucket_key = v_key;
end;
$$;
comment on function private.amocrm_pause_rate_bucket(uuid, integer) is
  'After a 429 from amoCRM: empties the account''s shared bucket so that no instance gets a token for p_pause_ms. '
  'Repeated 429s get an account blocked (403), so every instance backs off, not only the one that saw it.';
revoke all on function private.amocrm_pause_rate_bucket(uuid,integer) from public;
grant execute on function private.amocrm_pause_rate_bucket(uuid,integer) to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- Connection state and circuit breaker
-- ---------------------------------------------------------------------------------------------------------------
create or replace function private.amocrm_set_connection_state(
  p_connection_id uuid,
  p_state text,
  p_reason text default null
)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  update amocrm.connections c
     set state = p_state,
         state_reason = p_reason,
         state_changed_at = case when c.state is distinct from p_state then now() else c.state_changed_at end,
         updated_at = now()
   where c.id = p_connection_id;
end;
$$;
comment on function private.amocrm_set_connection_state(uuid, text, text) is
  'Sets amocrm.connections.state and state_reason (e.g. reauth_required after a refresh answered 401, '
  'account_unpaid after a 402); state_changed_at moves only when the state really changes.';
revoke all on function private.amocrm_set_connection_state(uuid,text,text) from public;
grant execute on function private.amocrm_set_connection_state(uuid,text,text) to service_role;

create or replace function private.amocrm_open_breaker(
  p_connection_id uuid,
  p_reason text,
  p_cooldown interval default interval '1 hour'
)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_account_id uuid;
  v_cooldown_until timestamptz;
  v_probe_job bigint;
begin
  update amocrm.connections c
     set breaker_open = true,
         breaker_reason = p_reason,
         -- Keep the first opening time when a half-open probe fails again.
         breaker_opened_at = case when c.breaker_open then coalesce(c.breaker_opened_at, now()) else now() end,
         breaker_cooldown_until = case when p_cooldown is null then null else now() + p_cooldown end,
         updated_at = now()
   where c.id = p_connection_id
  returning c.user_account_id, c.breaker_cooldown_until into v_user_account_id, v_cooldown_until;

  -- STEP: the scheduler makes the one probe call when the cool-down ends (a breaker_probe job), so the account
  -- heals without waiting for unrelated traffic. Re-opened after a failed probe: the queued probe moves along.
  if v_cooldown_until is not null then
    v_probe_job := private.enqueue_job('breaker_probe', v_user_account_id, '{}'::jsonb,
      'breaker_probe:' || v_user_account_id, v_cooldown_until);
    update amocrm.jobs set run_after = v_cooldown_until where id = v_probe_job and state = 'queued';
  end if;
end;
$$;
comment on function private.amocrm_open_breaker(uuid, text, interval) is
  'Opens the circuit breaker of a connection (amoCRM answered 403: the account is blocked). Until it is closed by '
  'private.amocrm_close_breaker() or the cool-down passes, private.amocrm_begin_call() refuses every HTTP call, and '
  'the account''s jobs wait unclaimed. Queues the breaker_probe job for the end of the cool-down. '
  'p_cooldown null = stays open until an operator closes it.';
revoke all on function private.amocrm_open_breaker(uuid,text,interval) from public;
grant execute on function private.amocrm_open_breaker(uuid,text,interval) to service_role;

create or replace function private.amocrm_close_breaker(p_connection_id uuid)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  update amocrm.connections c
     set breaker_open = false,
         breaker_reason = null,
         breaker_opened_at = null,
         breaker_cooldown_until = null,
         updated_at = now()
   where c.id = p_connection_id
     and c.breaker_open;
  return found;
end;
$$;
comment on function private.amocrm_close_breaker(uuid) is
  'Operator action (also used by the client after a successful half-open probe): closes the circuit breaker of a '
  'connection so API calls resume. Returns true when a breaker was open.';
revoke all on function private.amocrm_close_breaker(uuid) from public;
grant execute on function private.amocrm_close_breaker(uuid) to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- The gate before every HTTP call
-- ---------------------------------------------------------------------------------------------------------------
create or replace function private.amocrm_begin_call(
  p_connection_id uuid,
  p_purpose text default 'api',
  p_rate_headroom double precision default 0.9,
  p_probe_interval interval default interval '30 seconds'
)
returns table (
  wait_ms integer,
  blocked text,
  blocked_reason text,
  breaker_probe boolean,
  token_kind text,
  access_token text,
  access_token_expires_at timestamptz,
  amocrm_account_id bigint,
  subdomain text,
  base_domain text,
  api_base_url text
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_conn amocrm.connections;
  v_wait integer;
  v_probe boolean := false;
begin
  if p_purpose is null or p_purpose not in ('api', 'refresh', 'exchange') then
    raise exception using errcode = '22023', message = 'amocrm_begin_call: purpose must be api, refresh or exchange';
  end if;

  -- Plain read (no lock): a token refresh holding the row lock must not stall every other call.
  select * into v_conn from amocrm.connections c where c.id = p_connection_id;
  if not found then
    return query select 0, 'not_found'::text, null::text, false, null::text, null::text, null::timestamptz, null::bigint,
      null::text, null::text, null::text;
    return;
  end if;

  -- GUARD: API calls and refreshes need a working connection; an authorization-code exchange is how a
  -- pending / reauth_required connection becomes active again, so it only respects the breaker.
  if p_purpose in ('api', 'refresh') and v_conn.state <> 'active' then
    return query select 0, v_conn.state, v_conn.state_reason, false, v_conn.token_kind, null::text,
      null::timestamptz, v_conn.amocrm_account_id, v_conn.subdomain, v_conn.base_domain, v_conn.api_base_url;
    return;
  end if;

  -- GUARD: open breaker = no HTTP at all, unless the cool-down has passed (then one half-open probe).
  if v_conn.breaker_open and (v_conn.breaker_cooldown_until is null or v_conn.breaker_cooldown_until > now()) then
    return query select 0, 'breaker_open'::text, v_conn.breaker_reason, false, v_conn.token_kind, null::text,
      null::timestamptz, v_conn.amocrm_account_id, v_conn.subdomain, v_conn.base_domain, v_conn.api_base_url;
    return;
  end if;

  -- Headroom below the advertised limit absorbs the jitter between taking a token and the request arriving.
  v_wait := private.amocrm_take_rate_token(
    lower(v_conn.subdomain || '.' || v_conn.base_domain),
    greatest(0.1, coalesce(v_conn.rate_limit_per_second, 7)::double precision * p_rate_headroom),
    1
  );
  if v_wait > 0 then
    return query select v_wait, null::text, null::text, false, v_conn.token_kind, null::text, null::timestamptz,
      v_conn.amocrm_account_id, v_conn.subdomain, v_conn.base_domain, v_conn.api_base_url;
    return;
  end if;

  -- Only API calls claim the half-open probe: a token refresh runs while its transaction holds this very row
  -- locked, and must not wait for itself.
  if v_conn.breaker_open and p_purpose = 'api' then
    -- We hold the bucket row lock now; never wait for the connection row here (a refresh transaction holding it
    -- may itself be waiting for this bucket). Busy row: ask again shortly.
    perform 1 from amocrm.connections c where c.id = p_connection_id for update skip locked;
    if not found then
      return query select 50, null::text, null::text, false, v_conn.token_kind, null::text, null::timestamptz,
        v_conn.amocrm_account_id, v_conn.subdomain, v_conn.base_domain, v_conn.api_base_url;
      return;
    end if;
    -- Claim the probe with compare-and-set so that only one instance probes a blocked account per interval.
    update amocrm.connections c
       set breaker_cooldown_until = now() + p_probe_interval, updated_at = now()
     where c.id = p_connection_id
       and c.breaker_open
       and c.breaker_cooldown_until = v_conn.breaker_cooldown_until;
    if not found then
      return query select 0, 'breaker_open'::text, v_conn.breaker_reason, false, v_conn.token_kind, null::text,
        null::timestamptz, v_conn.amocrm_account_id, v_conn.subdomain, v_conn.base_domain, v_conn.api_base_url;
      return;
    end if;
    v_probe := true;
  end if;

  return query select 0, null::text, null::text, v_probe, v_conn.token_kind, v_conn.access_token,
    v_conn.access_token_expires_at, v_conn.amocrm_account_id, v_conn.subdomain, v_conn.base_domain,
    v_conn.api_base_url;
end;
$$;
comment on function private.amocrm_begin_call(uuid, text, double precision, interval) is
  'Called by the amoCRM client before every HTTP request of a connection. In one round trip: refuses when the '
  'connection is not usable (blocked = its state, or breaker_open, or not_found); otherwise takes a token from the '
  'account''s shared bucket (rate_limit_per_second * p_rate_headroom, burst 1) and returns wait_ms > 0 when the '
  'caller must sleep and ask again; when granted, returns the current access token, so every instance always uses '
  'the newest one. breaker_probe = true: this call is the single half-open probe after the cool-down.';
revoke all on function private.amocrm_begin_call(uuid,text,double precision,interval) from public;
grant execute on function private.amocrm_begin_call(uuid,text,double precision,interval) to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- Retention
-- ---------------------------------------------------------------------------------------------------------------
create or replace function private.amocrm_prune_api_calls(p_older_than interval default interval '14 days')
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_deleted bigint;
begin
  delete from amocrm.api_calls a where a.created_at < now() - p_older_than;
  get diagnostics v_deleted = row_count;
  return v_deleted;
end;
$$;
comment on function private.amocrm_prune_api_calls(interval) is
  'Deletes amoCRM API call traces older than p_older_than (default 14 days); returns the number deleted. '
  'Meant for a daily cron job.';
revoke all on function private.amocrm_prune_api_calls(interval) from public;
grant execute on function private.amocrm_prune_api_calls(interval) to service_role;
