-- Money is settled only from API-confirmed deal snapshots: won → paid sale + one purchase; price edit →
-- both amounts follow; reopened → pending; lost or deleted → cancelled; purchase removed when not paid.
begin;
select plan(12);

select tests.create_account('Money agency') as acc \gset
select tests.seed_pipelines(:'acc');
insert into public.leads (user_account_id, amocrm_lead_id, chat_id) values (:'acc', 6001, '79125550011@s.whatsapp.net')
returning id as lead_id \gset

create function pg_temp.snapshot(p_status integer, p_price integer, p_updated bigint, p_closed bigint default null)
returns jsonb language sql as $$
  select jsonb_build_object('id', 6001, 'name', 'Deal', 'price', p_price, 'status_id', p_status, 'pipeline_id', 100,
    'responsible_user_id', 1, 'created_at', 1700000000, 'updated_at', p_updated, 'closed_at', p_closed,
    'is_deleted', false, '_embedded', jsonb_build_object('contacts', jsonb_build_array(
      jsonb_build_object('id', 9100, 'is_main', true))))
$$;

select is(private.apply_deal_snapshot(:'acc', pg_temp.snapshot(142, 15000, 1700002000, 1700002000), '+7 (912) 555-00-11'),
  'applied', 'a won snapshot applies');
select results_eq(format('select status, amount, lead_id, client_phone_e164, closed_at from public.sales where user_account_id = %L', :'acc'),
  format($$values ('paid'::text, 15000.00::numeric(14,2), %s::bigint, '+79125550011'::text, to_timestamp(1700002000))$$, :lead_id),
  'won → one paid sale, attributed to the product lead, with the normalized client phone');
select results_eq(format('select amount, purchase_date, client_phone_e164 from public.purchases where user_account_id = %L', :'acc'),
  $$values (15000.00::numeric(14,2), to_timestamp(1700002000), '+79125550011'::text)$$,
  'won → one purchase dated closed_at');

select private.apply_deal_snapshot(:'acc', pg_temp.snapshot(142, 15000, 1700002000, 1700002000), '+7 (912) 555-00-11');
select is((select count(*) from public.purchases where user_account_id = :'acc'), 1::bigint, 'confirming twice writes nothing twice');

select private.apply_deal_snapshot(:'acc', pg_temp.snapshot(142, 18000, 1700002100, 1700002000));
select results_eq(format('select s.amount, p.amount from public.sales s join public.purchases p using (user_account_id, amocrm_deal_id) where s.user_account_id = %L', :'acc'),
  $$values (18000.00::numeric(14,2), 18000.00::numeric(14,2))$$, 'a price edit on a won deal moves both amounts');

select is(private.apply_deal_snapshot(:'acc', pg_temp.snapshot(142, 99999, 1700001000, 1700002000)), 'stale',
  'an older snapshot does not overwrite newer state');
select is((select amount from public.sales where user_account_id = :'acc'), 18000.00::numeric(14,2), '... and leaves the amount');

select private.apply_deal_snapshot(:'acc', pg_temp.snapshot(30, 18000, 1700002200));
select results_eq(format('select status, (select count(*) from public.purchases where user_account_id = %L) from public.sales where user_account_id = %L', :'acc', :'acc'),
  $$values ('pending'::text, 0::bigint)$$, 'won → reopened: the sale is pending and its purchase is gone');

select private.apply_deal_snapshot(:'acc', pg_temp.snapshot(142, 18000, 1700002300, 1700002300));
select is((select status from public.sales where user_account_id = :'acc'), 'paid', 'won again → paid again');

select private.apply_deal_snapshot(:'acc', pg_temp.snapshot(143, 18000, 1700002400));
select is((select status from public.sales where user_account_id = :'acc'), 'cancelled', 'won → lost: the sale is cancelled');

select private.apply_deal_snapshot(:'acc', pg_temp.snapshot(142, 18000, 1700002500, 1700002500));
select private.mark_deal_missing(:'acc', 6001);
select results_eq(format('select s.status, d.is_deleted from public.sales s join public.amocrm_deals d on d.user_account_id = s.user_account_id and d.amocrm_lead_id = s.amocrm_deal_id where s.user_account_id = %L', :'acc'),
  $$values ('cancelled'::text, true)$$, 'a deal the API no longer returns is deleted and its sale cancelled');

select ok((select count(*) >= 5 from public.amocrm_lead_status_history where user_account_id = :'acc' and source = 'api'),
  'stage changes seen only through the API still land in history');

select * from finish();
rollback;
