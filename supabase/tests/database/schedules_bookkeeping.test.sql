-- The schedules' bookkeeping: backfill runs start with their first page queued, progress adds up, the ids
-- phase reads only product deals the mirror lacks, webhook checks are recorded on the connection, and the
-- connect flow's connection writes.
begin;
select plan(14);

select tests.create_account('Bookkeeping agency') as acc \gset
select private.upsert_amocrm_connection(:'acc', 'Bookkeeping', 'amocrm.ru', null, 'client', 'secret',
  'https://app.test/cb') as conn \gset
select results_eq(format('select subdomain, state, token_kind from amocrm.connections where id = %L', :'conn'),
  $$values ('bookkeeping'::text, 'pending'::text, 'oauth'::text)$$, 'an OAuth connection waits for its code');
select is(private.upsert_amocrm_connection(:'acc', 'bookkeeping', 'amocrm.ru', null, null, null, null, 'tok',
  '2030-01-01'), :'conn'::uuid, 'connecting again updates the same connection');
select results_eq(format('select state, token_kind, access_token, client_id from amocrm.connections where id = %L', :'conn'),
  $$values ('active'::text, 'long_lived'::text, 'tok'::text, 'client'::text)$$,
  'a long-lived token makes it usable at once, keeping the client credentials');
select private.activate_amocrm_connection(:'acc', 31337, 'https://fn.test/amocrm-webhook?user_id=x&sig=y');
select results_eq(format('select amocrm_account_id, webhook_destination, state_reason from amocrm.connections where id = %L', :'conn'),
  $$values (31337::bigint, 'https://fn.test/amocrm-webhook?user_id=x&sig=y'::text, null::text)$$,
  'activation stores the account id and the webhook destination');
select private.upsert_amocrm_connection(:'acc', 'bookkeeping', 'amocrm.ru', null, 'client', 'secret', 'https://app.test/cb');
select results_eq(format('select state, amocrm_account_id from amocrm.connections where id = %L', :'conn'),
  $$values ('active'::text, 31337::bigint)$$,
  're-connecting the same account with a code keeps it working until the code is exchanged');

select run_id, job_id from private.start_backfill(:'acc', 1700000000) \gset
select results_eq(format('select kind, state, cursor from amocrm.sync_runs where id = %s', :run_id),
  $$values ('backfill'::text, 'running'::text,
    '{"phase": "scan", "created_from": 0, "page": 1, "after_id": 0, "step": 0, "to": 1700000000}'::jsonb)$$,
  'a backfill run starts at the first scan page');
select results_eq(format('select kind, payload ->> ''run_id'', dedupe_key from amocrm.jobs where id = %s', :job_id),
  format($$values ('backfill_page'::text, '%s'::text, 'backfill:%s'::text)$$, :run_id, :run_id),
  'with its first page queued');
select throws_ok(format('select private.start_backfill(%L)', gen_random_uuid()), 'P0002', null,
  'no backfill without a connection');

select private.record_sync_progress(:run_id, '{"step": 1, "created_from": 5}', 1, 250, 3, 0);
select private.record_sync_progress(:run_id, '{"step": 2}', 1, 40, 1, 2, '{"note": "x"}');
select results_eq(format($$select pages, leads, healed, errors, cursor ->> 'step', cursor ->> 'created_from', details ->> 'note'
  from amocrm.sync_runs where id = %s$$, :run_id),
  $$values (2, 290, 4, 2, '2'::text, '5'::text, 'x'::text)$$, 'progress adds up and the cursor moves');

insert into public.leads (user_account_id, amocrm_lead_id) values (:'acc', 501), (:'acc', 502), (:'acc', 503), (:'acc', 503);
insert into public.amocrm_deals (user_account_id, amocrm_lead_id, amocrm_updated_at) values (:'acc', 502, now());
insert into public.amocrm_deals (user_account_id, amocrm_lead_id, main_contact_id) values (:'acc', 503, 9);
select results_eq(format('select * from private.backfill_missing_lead_ids(%L, 0)', :'acc'),
  $$values (501::bigint), (503::bigint)$$, 'the ids phase reads product deals with no mirrored state, once each');
select results_eq(format('select * from private.backfill_missing_lead_ids(%L, 501)', :'acc'),
  $$values (503::bigint)$$, 'and resumes after the last id it read');

select private.record_webhook_check(:'acc', 'ok', false);
select results_eq(format('select webhook_checked_at is not null, webhook_disabled_seen_at, webhook_repairs from amocrm.connections where id = %L', :'conn'),
  $$values (true, null::timestamptz, 0)$$, 'a healthy webhook is only marked checked');
select private.record_webhook_check(:'acc', 'disabled', true);
select private.record_webhook_check(:'acc', 'missing', true);
select results_eq(format('select webhook_disabled_seen_at is not null, webhook_repaired_at is not null, webhook_repairs from amocrm.connections where id = %L', :'conn'),
  $$values (true, true, 2)$$, 'a disabled or missing webhook is recorded and the repairs counted');

select ok(not has_function_privilege('authenticated', 'private.start_backfill(uuid, bigint)', 'execute')
  and not has_function_privilege('anon', 'private.upsert_amocrm_connection(uuid, text, text, text, text, text, text, text, timestamptz)', 'execute'),
  'only the service runs these');

select * from finish();
rollback;
