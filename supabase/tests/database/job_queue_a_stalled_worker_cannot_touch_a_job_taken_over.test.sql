-- A worker that stalled past its lock (another worker took the job over) changes nothing when it wakes up: its
-- complete, fail or defer is ignored, so two workers never end up running one job. And a job whose worker stops
-- during its last attempt is dead, not taken over for ever.
begin;
select plan(6);

select tests.create_account('Stalled worker agency') as acc \gset
insert into amocrm.connections (user_account_id, subdomain, base_domain, state, token_kind, access_token)
values (:'acc', 'stalled-acc', 'amocrm.ru', 'active', 'long_lived', 't');

select private.enqueue_job('confirm_deals', :'acc', '{"ids":[1]}', null) as job \gset
select count(*) from private.claim_jobs(array['confirm_deals'], 1, 'w1');
-- w1 stalls; its lock expires and w2 takes the job over.
update amocrm.jobs set locked_at = now() - interval '40 seconds' where id = :job;
select results_eq($$select locked_by from private.claim_jobs(array['confirm_deals'], 1, 'w2')$$,
  $$values ('w2'::text)$$, 'w2 takes over the job whose lock expired');

select private.defer_job(:job, 'w1 wakes up: breaker', 'w1');
select private.fail_job(:job, 'w1 wakes up: error', 'w1');
select private.complete_job(:job, 'w1');
select results_eq(format('select state, locked_by, attempts, last_error from amocrm.jobs where id = %s', :job),
  $$values ('running'::text, 'w2'::text, 2, null::text)$$,
  'the stalled worker''s defer, fail and complete change nothing: w2 still holds the job');
select private.complete_job(:job, 'w2');
select is((select state from amocrm.jobs where id = :job), 'done', 'the worker that holds it completes it');

-- A job that keeps killing its worker: its lock expires on the last attempt.
select private.enqueue_job('confirm_deals', :'acc', '{"ids":[2]}', null) as doomed \gset
update amocrm.jobs set state = 'running', attempts = max_attempts, locked_by = 'w-dead',
  locked_at = now() - interval '40 seconds' where id = :doomed;
select is((select count(*)::int from private.claim_jobs(array['confirm_deals'], 10, 'w3')), 0,
  'it is not taken over again');
select results_eq(format('select state, last_error like %L from amocrm.jobs where id = %s', '%last attempt%', :doomed),
  $$values ('dead'::text, true)$$, 'it is dead, with the reason');
select results_eq(format('select dead_jobs from private.connection_statuses() where user_account_id = %L', :'acc'),
  $$values (1::bigint)$$, 'and the health view counts it');

select * from finish();
rollback;
