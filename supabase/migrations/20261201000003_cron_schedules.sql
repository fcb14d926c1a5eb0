-- Hand-written: the pg_cron schedules (rows in cron.job, which a schema diff cannot see). Each job calls a
-- function from supabase/schemas/0420_schedules.sql; cron.schedule with a stable name replaces the job in place,
-- so re-running this file is harmless.
--   amocrm-drain-queue       every minute   apply leftover webhook events (SQL) + kick the worker function
--   amocrm-drain-queue-half-minute  the same kick, 30 s later (a killed worker's job is taken over sooner)
--   amocrm-webhook-health    every 30 min   re-subscribe a missing/disabled webhook
--   amocrm-reconcile         every 6 h      incremental reconcile + Events API gap fill
--   amocrm-sync-pipelines    every 12 h     pipelines and stages
--   amocrm-token-keepalive   daily          refresh idle OAuth tokens well inside their 3-month life
--   amocrm-prune-api-calls   daily          keep two weeks of amoCRM call traces
select cron.schedule('amocrm-drain-queue', '* * * * *', $$
  select private.apply_pending_webhook_events();
  select private.invoke_function('amocrm-worker', '{"reason":"cron"}') where private.next_job_due_at() <= now();
$$);
-- A dead worker's job is free 30 s after its last heartbeat; this pg_cron has no sub-minute schedules, so a
-- second job looks again half a minute into each minute. A cron command is one transaction: its request is
-- queued at commit, after the sleep, and the check uses the clock, not the transaction's start.
select cron.schedule('amocrm-drain-queue-half-minute', '* * * * *', $$
  select pg_sleep(30);
  select private.invoke_function('amocrm-worker', '{"reason":"cron"}')
  where private.next_job_due_at() <= clock_timestamp();
$$);
select cron.schedule('amocrm-webhook-health', '*/30 * * * *',
  $$select private.invoke_function('amocrm-webhook-health', '{}')$$);
select cron.schedule('amocrm-reconcile', '17 */6 * * *',
  $$select private.invoke_function('amocrm-reconcile', '{"mode":"incremental"}')$$);
select cron.schedule('amocrm-sync-pipelines', '7 */12 * * *',
  $$select private.invoke_function('amocrm-sync-pipelines', '{}')$$);
select cron.schedule('amocrm-token-keepalive', '41 3 * * *',
  $$select private.invoke_function('amocrm-token-keepalive', '{}')$$);
select cron.schedule('amocrm-prune-api-calls', '53 4 * * *', $$select private.amocrm_prune_api_calls()$$);
