-- A deal is credited by phone only to a product lead that existed when the deal was created (the rule repeat
-- purchases follow). A manager's deal won before any product lead had that phone stays unattributed, even
-- when such a lead appears a day later; a lead that predates the deal still gets it.
begin;
select plan(6);

select tests.create_account('Attribution agency') as acc \gset
select tests.seed_pipelines(:'acc');

create function pg_temp.won_deal(p_id bigint, p_created bigint) returns jsonb language sql as $$
  select jsonb_build_object('id', p_id, 'name', 'Manager deal', 'price', 5000, 'status_id', 142, 'pipeline_id', 100,
    'responsible_user_id', 1, 'created_at', p_created, 'updated_at', p_created + 3600, 'closed_at', p_created + 3600,
    'is_deleted', false, '_embedded', jsonb_build_object('contacts', jsonb_build_array(
      jsonb_build_object('id', p_id + 100, 'is_main', true))))
$$;

-- Deal 7001 created (and won) on 2026-11-10 12:00 UTC; no product lead has its phone yet.
select private.apply_deal_snapshot(:'acc', pg_temp.won_deal(7001, extract(epoch from timestamptz '2026-11-10 12:00Z')::bigint),
  '+7 912 555-00-22');
-- The product's lead with that phone arrives a day later.
insert into public.leads (user_account_id, phone, created_at)
values (:'acc', '8 (912) 555-00-22', '2026-11-11 12:00Z') returning id as late_lead \gset

select is((select lead_id from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 7001), null::bigint,
  'a lead created after the deal does not get it');
select results_eq(format('select status, lead_id from public.sales where user_account_id = %L and amocrm_deal_id = 7001', :'acc'),
  $$values ('paid'::text, null::bigint)$$, '... its paid sale stays unattributed');
select is((select sum(amount) from public.unattributed_revenue where user_account_id = :'acc' and source = 'paid_sale'),
  5000.00::numeric, '... and is counted as unattributed revenue');

-- A later deal (2026-11-12) with the same phone: the lead existed then, so it is credited.
select private.apply_deal_snapshot(:'acc', pg_temp.won_deal(7002, extract(epoch from timestamptz '2026-11-12 12:00Z')::bigint),
  '+7 912 555-00-22');
select results_eq(format('select lead_id, attribution from public.amocrm_deals where user_account_id = %L and amocrm_lead_id = 7002', :'acc'),
  format('values (%s::bigint, %L::text)', :late_lead, 'phone'), 'a lead that existed when the deal was created gets it');

-- A deal whose creation time is not known yet (only its contact was seen) is not credited by phone until it is.
select private.apply_contact_event(:'acc', 9300, jsonb_build_object('linked_leads_id', jsonb_build_object('7003', '7003'),
  'custom_fields', jsonb_build_array(jsonb_build_object('code', 'PHONE', 'values', jsonb_build_array(
    jsonb_build_object('value', '+7 912 555-00-22'))))));
select is((select lead_id from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 7003), null::bigint,
  'a deal of unknown creation time is not credited by phone');
select private.apply_deal_snapshot(:'acc', pg_temp.won_deal(7003, extract(epoch from timestamptz '2026-11-13 12:00Z')::bigint));
select is((select lead_id from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 7003), :late_lead::bigint,
  '... and is, once the API says it was created after the lead');

select * from finish();
rollback;
