-- A deal's phone (what links it to a product lead) is its main contact's. A contact webhook of another contact
-- linked to the same deal (a colleague, a second decision maker) does not overwrite it; the main contact's own
-- update does.
begin;
select plan(3);

select tests.create_account('Main contact agency') as acc \gset
select tests.seed_pipelines(:'acc');

create function pg_temp.contact_event(p_contact bigint, p_phone text, p_deal bigint) returns jsonb language sql as $$
  select jsonb_build_array(jsonb_build_object('entity', 'contact', 'action', 'update', 'amocrm_id', p_contact,
    'amocrm_ts', 1700000300, 'payload', jsonb_build_object('id', p_contact::text, 'type', 'contact',
      'custom_fields', jsonb_build_array(jsonb_build_object('code', 'PHONE', 'values', jsonb_build_array(
        jsonb_build_object('value', p_phone, 'enum', '1')))),
      'linked_leads_id', jsonb_build_object(p_deal::text, jsonb_build_object('ID', p_deal::text)))))
$$;

-- Deal 6901, main contact 100 with +7 912 555-69-01 (from the API).
select private.apply_deal_snapshot(:'acc', jsonb_build_object('id', 6901, 'name', 'Deal 6901', 'price', 0,
  'status_id', 20, 'pipeline_id', 100, 'created_at', 1700000000, 'updated_at', 1700000100, 'is_deleted', false,
  '_embedded', jsonb_build_object('contacts', jsonb_build_array(jsonb_build_object('id', 100, 'is_main', true)))),
  '+7 912 555-69-01');
select is((select contact_phone_e164 from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 6901),
  '+79125556901', 'the deal has its main contact''s phone');

select tests.deliver(:'acc', pg_temp.contact_event(200, '8 (912) 555-69-99', 6901));
select is((select contact_phone_e164 from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 6901),
  '+79125556901', 'another contact of the deal does not overwrite its phone');

select tests.deliver(:'acc', pg_temp.contact_event(100, '8 (912) 555-69-02', 6901));
select is((select contact_phone_e164 from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 6901),
  '+79125556902', 'the main contact''s new phone replaces it');

select * from finish();
rollback;
