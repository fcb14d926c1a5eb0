-- amoCRM's duplicate control merged an incoming chat deal (in Unsorted) into an existing deal of the same
-- client: the absorbed deal is gone (deleted) and the Events API says `entity_merged` with empty values. The
-- product lead of the absorbed deal follows the survivor — its stage, qualification and sale — so its creative
-- keeps the credit; a survivor that is another product lead's own deal stays that lead's; no lead is counted
-- twice. While in Unsorted, the deal is a lead that is not qualified.
begin;
select plan(8);

select tests.create_account('Merge agency') as acc \gset
insert into public.amocrm_pipeline_stages
  (user_account_id, pipeline_id, pipeline_name, status_id, status_name, sort_order, status_type, is_qualified_stage)
values
  (:'acc', 100, 'Sales', 50, 'Unsorted', 10, 1, false),
  (:'acc', 100, 'Sales', 10, 'New', 20, 0, false),
  (:'acc', 100, 'Sales', 30, 'Meeting', 30, 0, true),
  (:'acc', 100, 'Sales', 142, 'Won', 10000, 0, false),
  (:'acc', 100, 'Sales', 143, 'Lost', 11000, 0, false);

create or replace function pg_temp.snapshot(p_id bigint, p_status integer, p_updated bigint, p_deleted boolean,
  p_price integer default 0)
returns jsonb language sql immutable as $$
  select jsonb_build_object('id', p_id, 'name', 'Deal ' || p_id, 'price', p_price, 'status_id', p_status,
    'pipeline_id', 100, 'created_at', 1700000000, 'updated_at', p_updated, 'is_deleted', p_deleted,
    'closed_at', case when p_status = 142 then p_updated end,
    '_embedded', jsonb_build_object('contacts', jsonb_build_array(jsonb_build_object('id', 77, 'is_main', true))))
$$;
create or replace function pg_temp.merged(p_id bigint, p_at bigint)
returns jsonb language sql immutable as $$
  select jsonb_build_object('id', 'm' || p_id, 'type', 'entity_merged', 'entity_id', p_id, 'entity_type', 'lead',
    'created_at', p_at, 'value_before', '[]'::jsonb, 'value_after', '[]'::jsonb)
$$;

-- The product's chat lead: its deal 3002 lands in Unsorted.
insert into public.leads (user_account_id, amocrm_lead_id, phone) values (:'acc', 3002, '+7 912 555-00-11')
returning id as lead_id \gset
select private.apply_deal_snapshot(:'acc', pg_temp.snapshot(3002, 50, 1700000100, false), '+7 912 555-00-11');
select results_eq(format('select current_status_id, is_qualified from public.leads where id = %s', :lead_id),
  $$values (50, false)$$, 'a deal in Unsorted: the product lead is there, not qualified');

-- Duplicate control merges it into the client's existing (manager-opened) deal 3001, which is won later.
-- (Its contact's phone is not known to us: the phone cannot link it.)
select private.apply_deal_snapshot(:'acc', pg_temp.snapshot(3001, 30, 1700000200, false));
select private.apply_deal_snapshot(:'acc', pg_temp.snapshot(3002, 50, 1700000200, true));
select is(private.apply_merge_event(:'acc', pg_temp.merged(3001, 1700000200)), 'followed',
  'the merge event finds the pair (one deleted, one alive, same contact)');
select results_eq(format('select current_status_id, is_qualified from public.leads where id = %s', :lead_id),
  $$values (30, true)$$, 'the product lead follows the surviving deal''s stage and qualification');
select private.apply_deal_snapshot(:'acc', pg_temp.snapshot(3001, 142, 1700000300, false, 5000));
select results_eq(format($$select lead_id, status, amount from public.sales where user_account_id = %L$$, :'acc'),
  format($$values (%s::bigint, 'paid'::text, 5000.00::numeric)$$, :lead_id),
  'the survivor''s sale is the product lead''s (its creative keeps the credit)');
select is((select count(*) from public.leads where user_account_id = :'acc'), 1::bigint, 'still one lead');

-- The same merge reported again changes nothing; a survivor that is another product lead's own deal stays so.
select is(private.apply_merge_event(:'acc', pg_temp.merged(3001, 1700000200)), 'recorded', 'a repeated event is a no-op');
insert into public.leads (user_account_id, amocrm_lead_id, phone) values (:'acc', 4001, '+7 912 555-00-22')
returning id as own_lead \gset
insert into public.leads (user_account_id, amocrm_lead_id, phone) values (:'acc', 4002, '+7 912 555-00-22')
returning id as chat_lead \gset
select private.apply_deal_snapshot(:'acc', pg_temp.snapshot(4001, 10, 1700000400, false) || '{"_embedded": {"contacts": [{"id": 88, "is_main": true}]}}');
select private.apply_deal_snapshot(:'acc', pg_temp.snapshot(4002, 50, 1700000400, true) || '{"_embedded": {"contacts": [{"id": 88, "is_main": true}]}}');
select is(private.apply_merge_event(:'acc', pg_temp.merged(4002, 1700000400)), 'kept',
  'a survivor the product created for another lead stays that lead''s');
select is((select lead_id from public.amocrm_deals where user_account_id = :'acc' and amocrm_lead_id = 4001), :own_lead::bigint,
  '... so one deal never counts for two leads');

select * from finish();
rollback;
