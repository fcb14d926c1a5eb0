-- A blocked amoCRM account (403 → breaker open) makes its jobs wait, not fail: they are not claimed and use no
-- attempt; after the cool-down exactly one probe job is runnable; dead jobs show their reason and an operator
-- re-queues them; a live worker's heartbeat keeps its job, a dead worker's job is reclaimed within seconds.
begin;
select plan(17);

select tests.create_account('Blocked agency') as blocked \gset
select tests.create_account('Healthy agency') as healthy \gset
insert into amocrm.connections (user_account_id, subdomain, base_domain, state, token_kind, access_token)
values (:'blocked', 'blocked-acc', 'amocrm.ru', 'active', 'long_lived', 't'),
       (:'healthy', 'healthy-acc', 'amocrm.ru', 'active', 'long_lived', 't');
select id as blocked_conn from amocrm.connections where user_account_id = :'blocked' \gset

select private.enqueue_job('confirm_deals', :'blocked', '{"ids":[1]}', 'confirm:' || :'blocked') as blocked_job \gset
select private.enqueue_job('confirm_deals', :'healthy', '{"ids":[2]}', 'confirm:' || :'healthy') as healthy_job \gset

-- STEP: amoCRM answers 403; the client opens the breaker for an hour.
select private.amocrm_open_breaker(:'blocked_conn', '403 on GET /api/v4/leads', interval '1 hour');

select results_eq(
  $$select id from private.claim_jobs(array['confirm_deals', 'breaker_probe'], 10, 'w1')$$,
  array[:healthy_job::bigint],
  'only the healthy account''s job is claimed while the other account''s breaker is open');
select is((select attempts from amocrm.jobs where id = :blocked_job), 0,
  'the blocked account''s job used no attempt');

select results_eq(
  $$select count(*)::int, min(run_after) from amocrm.jobs
    where user_account_id = '$$ || :'blocked' || $$' and kind = 'breaker_probe' and state = 'queued'$$,
  $$select 1, breaker_cooldown_until from amocrm.connections where id = '$$ || :'blocked_conn' || $$'$$,
  'opening the breaker queues one probe job, due when the cool-down ends');

-- A probe that meets the 403 again re-opens the breaker: still one queued probe, due at the new cool-down end.
select private.amocrm_open_breaker(:'blocked_conn', '403 again', interval '2 hours');
select results_eq(
  $$select count(*)::int, min(run_after) from amocrm.jobs
    where user_account_id = '$$ || :'blocked' || $$' and kind = 'breaker_probe' and state = 'queued'$$,
  $$select 1, breaker_cooldown_until from amocrm.connections where id = '$$ || :'blocked_conn' || $$'$$,
  're-opening keeps one probe job and moves it to the new cool-down end');

select is((select count(*)::int from private.claim_jobs(array['confirm_deals', 'breaker_probe'], 10, 'w1')), 0,
  'before the cool-down ends nothing of the blocked account is claimed, not even the probe');

-- STEP: the cool-down ends.
update amocrm.connections set breaker_cooldown_until = now() - interval '1 second' where id = :'blocked_conn';
update amocrm.jobs set run_after = now() - interval '1 second'
where user_account_id = :'blocked' and kind = 'breaker_probe';
select is(private.next_job_due_at(), (select min(run_after) from amocrm.jobs where kind = 'breaker_probe'),
  'the cron backstop sees the probe due, not the waiting jobs of the blocked account');
select results_eq(
  $$select kind from private.claim_jobs(array['confirm_deals', 'breaker_probe'], 10, 'w1')$$,
  array['breaker_probe'::text],
  'after the cool-down exactly the probe is claimed; the waiting jobs still wait for it');

-- STEP: the probe succeeded; the breaker closes and the waiting job runs.
select private.amocrm_close_breaker(:'blocked_conn');
select results_eq(
  $$select id from private.claim_jobs(array['confirm_deals'], 10, 'w1')$$,
  array[:blocked_job::bigint],
  'once the breaker is closed the waiting job is claimed');
select is((select attempts from amocrm.jobs where id = :blocked_job), 1,
  'and that is its first attempt');

-- A job that was running when the breaker opened is deferred: back to runnable, the attempt given back.
select private.defer_job(:blocked_job, 'waiting: circuit breaker open');
select results_eq(
  $$select state, attempts, last_error, locked_at is null from amocrm.jobs where id = $$ || :blocked_job,
  $$values ('failed'::text, 0, 'waiting: circuit breaker open'::text, true)$$,
  'a deferred job is runnable again with its attempt given back and the reason recorded');

-- Dead jobs: visible with their reason, re-queued by the operator command (only the named account's).
update amocrm.jobs set state = 'dead', attempts = max_attempts, last_error = 'AmoCrmServerError: 503'
where id in (:blocked_job, :healthy_job);
select results_eq(
  $$select dead_jobs, dead_job_errors from private.connection_statuses() where user_account_id = '$$ || :'blocked' || $$'$$,
  $$values (1::bigint, array['AmoCrmServerError: 503'::text])$$,
  'the health view shows the dead job with its reason');
select is(private.requeue_dead_jobs(:'blocked'), 1, 'the operator command re-queues the account''s dead job');
select results_eq(
  $$select state, attempts, run_after <= now() from amocrm.jobs where id = $$ || :blocked_job,
  $$values ('failed'::text, 0, true)$$,
  'a re-queued job is runnable at once with a fresh attempt budget');
select is((select state from amocrm.jobs where id = :healthy_job), 'dead', 'another account''s dead job is untouched');

-- Heartbeats: a worker that is alive renews its lock; one that died loses the job after the short lock.
update amocrm.jobs set state = 'running', locked_by = 'w-alive', locked_at = now() - interval '25 seconds'
where id = :blocked_job;
select is(private.heartbeat_jobs(array[:blocked_job::bigint], 'w-alive'), 1, 'the live worker renews its lock');
select is((select count(*)::int from private.claim_jobs(array['confirm_deals'], 10, 'w-other')), 0,
  'a job whose worker heartbeats is not taken by another worker');
update amocrm.jobs set locked_at = now() - interval '31 seconds' where id = :blocked_job;
select results_eq(
  $$select id from private.claim_jobs(array['confirm_deals'], 10, 'w-other')$$,
  array[:blocked_job::bigint],
  'a job whose worker stopped heartbeating for 30 s is reclaimed');

select * from finish();
rollback;
