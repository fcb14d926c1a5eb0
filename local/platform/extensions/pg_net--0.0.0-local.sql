-- amo-roi local stand-in for Supabase's pg_net. Same names and signatures as pg_net 0.x:
-- net.http_post / net.http_get enqueue into net.http_request_queue and return the request id;
-- the local functions host performs the request and writes net._http_response.
create schema if not exists net;

create unlogged table net.http_request_queue (
  id bigserial primary key,
  method text not null,
  url text not null,
  headers jsonb not null default '{}',
  body bytea,
  timeout_milliseconds integer not null default 5000
);

create unlogged table net._http_response (
  id bigint,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out boolean,
  error_msg text,
  created timestamptz not null default now()
);
create index on net._http_response (created);

create function net._notify_worker() returns trigger language plpgsql set search_path = '' as $$
begin
  perform pg_notify('net_http_request', new.id::text);
  return new;
end $$;

create trigger notify_worker after insert on net.http_request_queue
  for each row execute function net._notify_worker();

create function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint language sql volatile set search_path = '' as $$
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values (
    'POST',
    url || case when params = '{}'::jsonb then '' else '?' || (
      select string_agg(key || '=' || value, '&') from jsonb_each_text(params)) end,
    headers,
    convert_to(body::text, 'UTF8'),
    timeout_milliseconds
  )
  returning id
$$;

create function net.http_get(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint language sql volatile set search_path = '' as $$
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values (
    'GET',
    url || case when params = '{}'::jsonb then '' else '?' || (
      select string_agg(key || '=' || value, '&') from jsonb_each_text(params)) end,
    headers,
    null,
    timeout_milliseconds
  )
  returning id
$$;
