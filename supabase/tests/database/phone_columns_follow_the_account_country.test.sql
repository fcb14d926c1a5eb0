-- The normalized phone columns hold on every insert path (the product inserts leads straight into Postgres):
-- a written country code wins, a national number is read in the account's default country, extensions are
-- dropped, a value written into the normalized column itself is replaced. A Vietnamese customer's sale is no
-- longer credited to a Russian lead whose number shares its digits.
begin;
select plan(11);

select tests.create_account('Phones RU') as ru \gset
select tests.create_account('Phones KZ') as kz \gset
update public.user_accounts set default_phone_country = 'KZ' where id = :'kz';

-- '+84 912 345 678' was read as the Russian 8-prefixed +7 491 234 56 78.
insert into public.leads (user_account_id, phone, created_at) values (:'ru', '8 (491) 234-56-78', '2026-11-01Z')
returning id as ru_lead \gset
select is((select phone_e164 from public.leads where id = :ru_lead), '+74912345678', 'a Russian national number');
select private.apply_deal_snapshot(:'ru', jsonb_build_object('id', 8101, 'name', 'Vietnam', 'price', 5000, 'status_id', 142,
  'pipeline_id', 100, 'created_at', 1796000000, 'updated_at', 1796000100, 'closed_at', 1796000100,
  '_embedded', jsonb_build_object('contacts', jsonb_build_array(jsonb_build_object('id', 8201, 'is_main', true)))),
  '+84 912 345 678');
select results_eq(format('select d.contact_phone_e164, d.lead_id, s.lead_id, s.client_phone_e164 from public.amocrm_deals d join public.sales s on s.user_account_id = d.user_account_id and s.amocrm_deal_id = d.amocrm_lead_id where d.user_account_id = %L and d.amocrm_lead_id = 8101', :'ru'),
  $$values ('+84912345678'::text, null::bigint, null::bigint, '+84912345678'::text)$$,
  'a written country code wins: the Vietnamese sale stays with its Vietnamese number, unattributed');

-- Extensions and junk.
insert into public.leads (user_account_id, phone) values (:'ru', '+7 912 345-67-89 доб. 123') returning id as ext_lead \gset
select is((select phone_e164 from public.leads where id = :ext_lead), '+79123456789', 'an extension is dropped');
insert into public.leads (user_account_id, phone, chat_id) values (:'ru', 'нет', '0079123456789') returning id as idd_lead \gset
select is((select phone_e164 from public.leads where id = :idd_lead), '+79123456789',
  'junk in phone falls back to the chat id; 00 is an international prefix');

-- Nobody can write another value into the normalized column, on insert or update.
insert into public.leads (user_account_id, phone, phone_e164) values (:'ru', '8 912 000-11-22', '+10000000000')
returning id as forced \gset
select is((select phone_e164 from public.leads where id = :forced), '+79120001122', 'a written phone_e164 is replaced on insert');
update public.leads set phone_e164 = '+10000000000' where id = :forced;
select is((select phone_e164 from public.leads where id = :forced), '+79120001122', '... and on update');

-- The product's service side inserting through the API (service_role, not the owner) gets the same rule.
select tests.authenticate_as_service_role();
insert into public.leads (user_account_id, phone) values (:'kz', '8 701 123 45 67');
select tests.clear_authentication();
select is((select phone_e164 from public.leads where user_account_id = :'kz' and phone = '8 701 123 45 67'), '+77011234567',
  'a service-role insert into a Kazakh account: the national number is read in KZ');

-- Ukrainian national numbers need the account's country: in RU they are not phones.
insert into public.leads (user_account_id, phone) values (:'ru', '067 123 45 67') returning id as ua_lead \gset
select is((select phone_e164 from public.leads where id = :ua_lead), null, 'a Ukrainian national number is not a Russian phone');
update public.user_accounts set default_phone_country = 'UA' where id = :'ru';
select is((select phone_e164 from public.leads where id = :ua_lead), '+380671234567',
  'changing the account''s country re-reads its stored phones');
select is((select phone_e164 from public.leads where id = :ru_lead), null, '... a Russian national number is no Ukrainian one');

-- Sales and purchases the product writes itself follow the same rule.
insert into public.purchases (user_account_id, client_phone, amount, purchase_date)
values (:'kz', '8 (701) 123-45-67 ext. 9', 100, now()) returning client_phone_e164 as p_phone \gset
select is(:'p_phone'::text, '+77011234567'::text, 'a purchase the product inserts is normalized in its account''s country');

select * from finish();
rollback;
