-- Money is never taken from a webhook: every event that can change a sale queues the deal for an API
-- confirmation (the confirm_deals job) — won, lost, a price edit on a won deal, reopening a won deal, deleting
-- a deal that has a sale. A move between open stages changes no money and queues nothing.
begin;
select plan(6);

select tests.create_account('Money events agency') as acc \gset
select tests.seed_pipelines(:'acc');
select set_config('tests.acc', :'acc', true);

-- Whether the account's queued confirmation job carries the deal; the queue is emptied after each look.
create function pg_temp.confirmation_queued(p_deal bigint) returns boolean language plpgsql as $$
declare
  v_queued boolean;
begin
  select coalesce(bool_or(j.payload -> 'ids' @> to_jsonb(p_deal)), false) into v_queued
  from amocrm.jobs j
  where j.user_account_id = current_setting('tests.acc')::uuid and j.kind = 'confirm_deals' and j.state = 'queued';
  delete from amocrm.jobs where user_account_id = current_setting('tests.acc')::uuid;
  return v_queued;
end $$;

-- Deal 6501: open, moved between open stages.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 6501, 1700000100, 10, 100, 1000)));
select pg_temp.confirmation_queued(6501);
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 6501, 1700000200, 20, 100, 1000, 10)));
select is(pg_temp.confirmation_queued(6501), false, 'a move between open stages queues nothing');

-- Won (the sale comes from the confirmation read).
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 6501, 1700000300, 142, 100, 1000, 20)));
select is(pg_temp.confirmation_queued(6501), true, 'winning a deal queues its confirmation');
select private.apply_deal_snapshot(:'acc', jsonb_build_object('id', 6501, 'name', 'Deal 6501', 'price', 1000,
  'status_id', 142, 'pipeline_id', 100, 'created_at', 1700000000, 'updated_at', 1700000300,
  'closed_at', 1700000300, 'is_deleted', false));

-- A price edit on the won deal.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('update', 6501, 1700000400, 142, 100, 1500)));
select is(pg_temp.confirmation_queued(6501), true, 'a price edit on a won deal queues its confirmation');

-- Reopened.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 6501, 1700000500, 30, 100, 1500, 142)));
select is(pg_temp.confirmation_queued(6501), true, 'reopening a won deal queues its confirmation');

-- Lost.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 6501, 1700000600, 143, 100, 1500, 30)));
select is(pg_temp.confirmation_queued(6501), true, 'losing a deal queues its confirmation');

-- Deleted while it has a sale.
select tests.deliver(:'acc', jsonb_build_array(jsonb_build_object('entity', 'lead', 'action', 'delete', 'amocrm_id', 6501,
  'amocrm_ts', 0, 'payload', jsonb_build_object('id', '6501', 'status_id', '143', 'pipeline_id', '100'))));
select is(pg_temp.confirmation_queued(6501), true, 'deleting a deal that has a sale queues its confirmation');

select * from finish();
rollback;
