-- A sale's state and amount come only from what the amoCRM API returned. A webhook saying "won, 99,999" whose
-- updated_at is later than the API's own copy (open, price 0) does not make a paid sale: the confirmation
-- reads the deal again later, a bounded number of times (private.max_stale_api_reads), and then settles from
-- the API copy. Amounts are exact: price_with_minor_units wins over the truncated legacy price.
begin;
select plan(17);

select tests.create_account('Money truth agency') as acc \gset
select tests.seed_pipelines(:'acc');
insert into public.leads (user_account_id, amocrm_lead_id, phone) values (:'acc', 6101, '+7 912 555-01-01');

create function pg_temp.api_lead(p_id bigint, p_status integer, p_price numeric, p_updated bigint,
  p_minor numeric default null)
returns jsonb language sql as $$
  select jsonb_strip_nulls(jsonb_build_object('id', p_id, 'name', 'Deal', 'price', trunc(p_price)::integer,
    'price_with_minor_units', p_minor, 'status_id', p_status, 'pipeline_id', 100, 'responsible_user_id', 1,
    'created_at', 1700000000, 'updated_at', p_updated,
    'closed_at', case when p_status in (142, 143) then p_updated end, 'is_deleted', false))
$$;
create function pg_temp.rereads(p_acc uuid) returns bigint language sql as $$
  select count(*) from amocrm.jobs
  where user_account_id = p_acc and kind = 'confirm_deals' and state = 'queued' and run_after > now()
    and payload -> 'ids' @> '[6101]'
$$;

-- The webhook: won at 99,999, at 1700005000. The API's copy (read after it) is still open at price 0, 1700004000.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 6101, 1700005000, 142, 100, 99999, 30)));
select is(private.apply_deal_snapshot(:'acc', pg_temp.api_lead(6101, 30, 0, 1700004000)), 'reread',
  'an API copy older than the webhook is not settled from: the deal is read again later');
select is((select count(*) from public.sales where user_account_id = :'acc' and status = 'paid'), 0::bigint,
  '... no paid sale from the webhook''s word alone');
select is(pg_temp.rereads(:'acc'), 1::bigint, '... one delayed re-read is queued for the deal');
select is((select stale_api_reads from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 6101), 1,
  '... and counted on the deal');

-- The API keeps answering with the older copy: after the bound, the sale is settled from the API copy.
select private.apply_deal_snapshot(:'acc', pg_temp.api_lead(6101, 30, 0, 1700004000))
from generate_series(2, private.max_stale_api_reads());
select is(private.apply_deal_snapshot(:'acc', pg_temp.api_lead(6101, 30, 0, 1700004000)), 'unconfirmed',
  'past the bound the deal is settled from what the API returned');
select is((select count(*) from public.sales where user_account_id = :'acc' and status = 'paid'), 0::bigint,
  '... which is no paid sale');
select is((select stale_api_reads from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 6101),
  private.max_stale_api_reads(), '... and re-reads stop at the bound');

-- A full reconcile reading the same stale copy changes nothing either.
select is((select count(*) from private.reconcile_deal_snapshots(:'acc', jsonb_build_array(pg_temp.api_lead(6101, 30, 0, 1700004000))) r
  where r.outcome = 'unconfirmed'), 1::bigint, 'a reconcile of the stale copy settles from the API copy too');
select is((select coalesce(sum(amount), 0) from public.sales where user_account_id = :'acc' and status = 'paid'), 0::numeric,
  '... and leaves no paid revenue');

-- Once the API catches up (won, 142,000.50 with minor units), the sale is paid at exactly that.
select is(private.apply_deal_snapshot(:'acc', pg_temp.api_lead(6101, 142, 142000, 1700006000, 142000.50)), 'applied',
  'an API copy newer than the webhook applies');
select results_eq(format('select s.status, s.amount, p.amount, s.confirmed_at is not null from public.sales s join public.purchases p using (user_account_id, amocrm_deal_id) where s.user_account_id = %L', :'acc'),
  $$values ('paid'::text, 142000.50::numeric(14,2), 142000.50::numeric(14,2), true)$$,
  'the paid sale and its purchase carry price_with_minor_units, not the truncated price');
select is((select stale_api_reads from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 6101), 0,
  '... and the stale-read count starts over');

-- Webhooks carry only the truncated integer price: "142000" for a deal the API knows as 142,000.50 is the same
-- amount, not a price edit.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('update', 6101, 1700007000, 142, 100, 142000)));
select is((select price from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 6101), 142000.50::numeric(14,2),
  'a webhook''s truncated price does not overwrite the exact one');
select is((select amount from public.sales where user_account_id = :'acc'), 142000.50::numeric(14,2), '... nor the sale');

-- A read that began before a webhook (move to another stage, integer price of the same amount) but is applied
-- after it is older, yet its kopecks still belong to the deal: the webhook enqueued no read to bring them.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('update', 6104, 1700009000, 20, 100, 300)));
select private.apply_deal_snapshot(:'acc', pg_temp.api_lead(6104, 10, 300, 1700008500, 300.75));
select is((select price from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 6104), 300.75::numeric(14,2),
  'an older API copy gives a newer webhook state its exact amount when the integer parts agree');

-- A deal without price_with_minor_units (older accounts) falls back to price; 0.1 stays 0.1 where given.
select private.apply_deal_snapshot(:'acc', pg_temp.api_lead(6102, 142, 1500, 1700008000));
select is((select amount from public.sales where user_account_id = :'acc' and amocrm_deal_id = 6102), 1500.00::numeric(14,2),
  'no price_with_minor_units: the legacy price is used');
select private.apply_deal_snapshot(:'acc', pg_temp.api_lead(6103, 142, 0, 1700008000, 0.1));
select is((select amount from public.sales where user_account_id = :'acc' and amocrm_deal_id = 6103), 0.10::numeric(14,2),
  'price_with_minor_units 0.1 is a sale of 0.10, not 0');

select * from finish();
rollback;
