-- A worker that dies mid-job leaves it running with its lock; once the lock is older than the lock time,
-- another worker claims it (one more attempt, its own name). A fresh lock is never taken over.
begin;
select plan(3);

select tests.create_account('Dead worker agency') as acc \gset
select private.enqueue_job('confirm_deals', :'acc', '{"ids":[1]}', 'dead-worker:' || :'acc') as job \gset
select count(*) from private.claim_jobs(array['confirm_deals'], 10, 'w1', 120);

select is((select count(*) from private.claim_jobs(array['confirm_deals'], 10, 'w2', 120)), 0::bigint,
  'a job locked a moment ago is not taken over');

-- w1 died three minutes ago.
update amocrm.jobs set locked_at = now() - interval '3 minutes' where id = :job;
select results_eq(format($$select id, attempts, locked_by from private.claim_jobs(array['confirm_deals'], 10, 'w2', 120)$$),
  format($$values (%s::bigint, 2, 'w2'::text)$$, :job), 'a job whose lock expired is claimed by another worker');
select results_eq(format('select state, locked_by from amocrm.jobs where id = %s', :job),
  $$values ('running'::text, 'w2'::text)$$, '... and now runs there');

select * from finish();
rollback;
