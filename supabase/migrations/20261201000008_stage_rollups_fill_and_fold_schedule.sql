-- Hand-written: the stage rollups start from every account's current history (a data fill a schema diff cannot
-- express), and pg_cron folds what the webhook intake's own fold calls left (cron.job rows are not in a diff).
--   amocrm-fold-stage-rollups   every minute   fold stage marks the intake left (50 s budget, one transaction)
select private.analytics_stage_rebuild(a.id) from public.user_accounts a;

select cron.schedule('amocrm-fold-stage-rollups', '* * * * *', $$select private.analytics_stage_fold_all()$$);
