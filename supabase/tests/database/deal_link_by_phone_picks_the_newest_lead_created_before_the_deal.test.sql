-- A deal the product did not create is attributed by its main contact's phone to the newest product lead with
-- that phone created at or before the deal (the ad that brought the client), not to an older lead nor to one
-- created after the deal; a deal older than every such lead is credited to none (unattributed revenue: the ad
-- did not bring a client who was already buying).
begin;
select plan(3);

select tests.create_account('Phone link agency') as acc \gset
select tests.seed_pipelines(:'acc');
insert into public.leads (user_account_id, phone, created_at) values (:'acc', '+7 912 555-00-77', '2026-01-01 10:00+00')
returning id as first_lead \gset
insert into public.leads (user_account_id, phone, created_at) values (:'acc', '8 912 555 00 77', '2026-01-10 10:00+00')
returning id as second_lead \gset
insert into public.leads (user_account_id, phone, created_at) values (:'acc', '79125550077', '2026-02-01 10:00+00')
returning id as third_lead \gset

create function pg_temp.deal(p_id bigint, p_created timestamptz) returns jsonb language sql as $$
  select jsonb_build_object('id', p_id, 'name', 'Deal ' || p_id, 'price', 0, 'status_id', 10, 'pipeline_id', 100,
    'created_at', extract(epoch from p_created)::bigint, 'updated_at', extract(epoch from p_created)::bigint + 60,
    'is_deleted', false)
$$;

-- Opened by a manager on 2026-01-15: between the second and the third lead.
select private.apply_deal_snapshot(:'acc', pg_temp.deal(6301, '2026-01-15 10:00+00'), '+7 (912) 555-00-77');
select results_eq(format('select lead_id, attribution from public.amocrm_deals where user_account_id = %L and amocrm_lead_id = 6301', :'acc'),
  format($$values (%s::bigint, 'phone'::text)$$, :second_lead),
  'a deal goes to the newest lead with the phone created before it');

-- Opened on 2025-12-01, before every lead with the phone.
select private.apply_deal_snapshot(:'acc', pg_temp.deal(6302, '2025-12-01 10:00+00'), '+7 (912) 555-00-77');
select is((select lead_id from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 6302),
  null::bigint, 'a deal older than every lead with the phone stays unattributed');

-- Opened after all three.
select private.apply_deal_snapshot(:'acc', pg_temp.deal(6303, '2026-03-01 10:00+00'), '+7 (912) 555-00-77');
select is((select lead_id from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 6303),
  :third_lead::bigint, 'a deal after every lead goes to the newest lead');

select * from finish();
rollback;
