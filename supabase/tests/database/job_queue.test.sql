-- The job queue: duplicates merge, claims never hand one job to two workers, failures back off then die.
begin;
select plan(10);

select tests.create_account('Queue agency') as acc \gset

select private.enqueue_job('confirm_deals', :'acc', '{"ids":[1,2]}', 'confirm:' || :'acc') as j1 \gset
select private.enqueue_job('confirm_deals', :'acc', '{"ids":[2,3]}', 'confirm:' || :'acc') as j2 \gset
select is(:j1::bigint, :j2::bigint, 'enqueueing the same dedupe key reuses the queued job');
select is((select payload -> 'ids' from amocrm.jobs where id = :j1), '[1, 2, 3]'::jsonb,
  'the merged job carries every id once');

select is((select count(*) from private.claim_jobs(array['confirm_deals'], 10, 'w1')), 1::bigint,
  'a worker claims the runnable job');
select is((select count(*) from private.claim_jobs(array['confirm_deals'], 10, 'w2')), 0::bigint,
  'a running job is not handed to a second worker');

select private.enqueue_job('confirm_deals', :'acc', '{"ids":[4]}', 'confirm:' || :'acc') as j_while_running \gset
select isnt(:j_while_running::bigint, :j1::bigint, 'work enqueued while a job runs goes to a new job, not the running one');
delete from amocrm.jobs where id = :j_while_running;

select private.fail_job(:j1, 'amoCRM answered 503');
select results_eq($$select state, attempts, last_error from amocrm.jobs where id = $$ || :j1,
  $$values ('failed'::text, 1, 'amoCRM answered 503'::text)$$, 'a failure is recorded with its error');
select ok((select run_after > now() from amocrm.jobs where id = :j1), 'a failed job waits before its retry');
select is((select count(*) from private.claim_jobs(array['confirm_deals'], 10, 'w1')), 0::bigint,
  'a backing-off job is not claimed early');

update amocrm.jobs set attempts = max_attempts, run_after = now() where id = :j1;
select private.fail_job(:j1, 'still failing');
select is((select state from amocrm.jobs where id = :j1), 'dead', 'after max_attempts the job is dead');

select private.enqueue_job('confirm_deals', :'acc', '{"ids":[9]}', 'confirm:' || :'acc') as j3 \gset
select isnt(:j3::bigint, :j1::bigint, 'a dead job does not swallow new work with the same key');

select * from finish();
rollback;
