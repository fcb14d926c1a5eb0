-- The client runtime is service-only: RLS on, no table access and no function execution for anon or
-- authenticated; service_role can use it; traces are indexed for per-connection lookups.
begin;
select plan(12);

select ok((select relrowsecurity from pg_class where oid = 'amocrm.rate_buckets'::regclass), 'rate_buckets has RLS');
select ok((select relrowsecurity from pg_class where oid = 'amocrm.api_calls'::regclass), 'api_calls has RLS');

select ok(not has_table_privilege('anon', 'amocrm.rate_buckets', 'select'), 'anon cannot read rate_buckets');
select ok(not has_table_privilege('authenticated', 'amocrm.api_calls', 'select'), 'authenticated cannot read api_calls');
select ok(has_table_privilege('service_role', 'amocrm.api_calls', 'insert'), 'service_role writes api_calls');

select ok(not has_function_privilege('anon',
  'private.amocrm_begin_call(uuid, text, double precision, interval)', 'execute'), 'anon cannot call the gate');
select ok(not has_function_privilege('authenticated',
  'private.amocrm_begin_call(uuid, text, double precision, interval)', 'execute'), 'authenticated cannot call the gate');
select ok(not has_function_privilege('authenticated', 'private.amocrm_close_breaker(uuid)', 'execute'),
  'authenticated cannot close a breaker');
select ok(not has_function_privilege('authenticated',
  'private.amocrm_take_rate_token(text, double precision, double precision)', 'execute'),
  'authenticated cannot take rate tokens');
select ok(has_function_privilege('service_role', 'private.amocrm_close_breaker(uuid)', 'execute'),
  'service_role can close a breaker');
select ok(has_function_privilege('service_role',
  'private.amocrm_begin_call(uuid, text, double precision, interval)', 'execute'), 'service_role can call the gate');

select has_index('amocrm', 'api_calls', 'api_calls_connection_id_created_at_idx', array['connection_id', 'created_at'],
  'api_calls is indexed by (connection_id, created_at)');

select * from finish();
rollback;
