-- The schedules exist in pg_cron with their stable names, specs and commands, and the one helper they all go
-- through (private.invoke_function) queues a pg_net request to the functions URL from Vault, carrying the
-- cron secret from Vault — or nothing at all when Vault lacks either secret.
begin;
select plan(16);

select results_eq(
  $$select jobname::text collate "default", schedule::text collate "default" from cron.job where jobname like 'amocrm-%' order by jobname$$,
  $$values ('amocrm-drain-queue', '* * * * *'), ('amocrm-drain-queue-half-minute', '* * * * *'),
           ('amocrm-prune-api-calls', '53 4 * * *'),
           ('amocrm-reconcile', '17 */6 * * *'), ('amocrm-sync-pipelines', '7 */12 * * *'),
           ('amocrm-token-keepalive', '41 3 * * *'), ('amocrm-webhook-health', '*/30 * * * *')$$,
  'every schedule exists once, with its spec');

select ok((select command like '%private.invoke_function(''amocrm-webhook-health'', ''{}'')%'
  from cron.job where jobname = 'amocrm-webhook-health'), 'webhook health calls its function with {}');
select ok((select command like '%private.invoke_function(''amocrm-reconcile'', ''{"mode":"incremental"}'')%'
  from cron.job where jobname = 'amocrm-reconcile'), 'reconcile calls its function in incremental mode');
select ok((select command like '%private.invoke_function(''amocrm-sync-pipelines'', ''{}'')%'
  from cron.job where jobname = 'amocrm-sync-pipelines'), 'pipeline sync calls its function for every account');
select ok((select command like '%private.invoke_function(''amocrm-token-keepalive'', ''{}'')%'
  from cron.job where jobname = 'amocrm-token-keepalive'), 'token keep-alive calls its function');
select ok((select command like '%private.apply_pending_webhook_events()%'
    and command like '%private.invoke_function(''amocrm-worker''%'
  from cron.job where jobname = 'amocrm-drain-queue'), 'the drain applies leftover events in SQL and kicks the worker');
select ok((select command like '%private.amocrm_prune_api_calls()%' from cron.job where jobname = 'amocrm-prune-api-calls'),
  'traces are pruned in SQL');
select ok((select command like '%private.analytics_stage_fold_all(%' from cron.job
  where jobname = 'amocrm-drain-queue'), 'the drain also folds the stage marks the intake left');
select ok((select bool_and(active) from cron.job where jobname like 'amocrm-%'), 'every schedule is active');

-- Known Vault values for this transaction only (the local seed has them too; a hosted project sets its own).
delete from vault.secrets where name in ('amo_roi_functions_url', 'amo_roi_cron_secret');
select vault.create_secret('https://project.test/functions/v1', 'amo_roi_functions_url');
select vault.create_secret('cron-secret-under-test', 'amo_roi_cron_secret');

select private.invoke_function('amocrm-reconcile', '{"mode":"incremental"}') as req \gset
select ok(:'req'::bigint > 0, 'invoke_function returns the pg_net request id');
select results_eq(
  format('select method, url from net.http_request_queue where id = %s', :'req'),
  $$values ('POST'::text, 'https://project.test/functions/v1/amocrm-reconcile'::text)$$,
  'the request is a POST to <functions url>/<name>');
select is((select headers ->> 'x-cron-secret' from net.http_request_queue where id = :'req'),
  'cron-secret-under-test', 'it carries the cron secret from Vault');
select is((select headers ->> 'Content-Type' from net.http_request_queue where id = :'req'),
  'application/json', 'as JSON');
select is((select convert_from(body, 'UTF8')::jsonb from net.http_request_queue where id = :'req'),
  '{"mode":"incremental"}'::jsonb, 'with the body it was given');

-- Without the secret nothing is sent (a warning says why) instead of calling the function unauthenticated.
delete from vault.secrets where name = 'amo_roi_cron_secret';
select is(private.invoke_function('amocrm-reconcile', '{}'), null::bigint, 'a missing Vault secret sends nothing');

select ok(not has_function_privilege('authenticated', 'private.invoke_function(text, jsonb)', 'execute'),
  'members cannot make the database call functions');

select * from finish();
rollback;
