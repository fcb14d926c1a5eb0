-- Hand-written: the stage rollups start from every account's current history (a data fill a schema diff cannot
-- express). The marks the intake's own folds leave are folded by the amocrm-drain-queue schedule (0003).
select private.analytics_stage_rebuild(a.id) from public.user_accounts a;
