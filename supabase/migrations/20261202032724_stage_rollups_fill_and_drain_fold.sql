-- Hand-written: what a schema diff cannot express for the stage rollups (after the generated migration before it).
--   1. the data fill: every account's stage rollups from its current history
--   2. amocrm-drain-queue (pg_cron, every minute) gets a fold step: it folds the stage marks the webhook intake's
--      own folds left. A step of the drain, not a job of its own: this pg_cron runs jobs in a few background
--      workers, and one more job every minute was seen to starve another job of that minute. It runs last before
--      the commit, so the fold lock it takes is held only for the fold itself. cron.schedule with the job's
--      name replaces the command in place.
select private.analytics_stage_rebuild(a.id) from public.user_accounts a;

select cron.schedule('amocrm-drain-queue', '* * * * *', $$
  select private.apply_pending_webhook_events();
  select private.analytics_stage_fold_all(interval '10 seconds');
  select private.invoke_function('amocrm-worker', '{"reason":"cron"}') where private.next_job_due_at() <= now();
$$);
