-- An API read that overtakes a status webhook (confirmations now also read deals whose new price a webhook gave
-- only to the ruble) finds the deal in a stage it was never seen entering and writes a guessed transition at
-- the read's updated_at. When the real status webhook then arrives, the guess goes: history keeps one row
-- per real transition, at its real time.
begin;
select plan(2);

select tests.create_account('Guess agency') as acc \gset
select tests.seed_pipelines(:'acc');

select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('add', 6201, 1700000100, 30, 100)));
-- The API already shows the deal won (and its price edited later, at 1700002000).
select private.apply_deal_snapshot(:'acc', jsonb_build_object('id', 6201, 'name', 'Deal', 'price', 700, 'status_id', 142,
  'pipeline_id', 100, 'created_at', 1700000000, 'updated_at', 1700002000, 'closed_at', 1700001000));
-- The win's own webhook arrives afterwards.
select tests.deliver(:'acc', jsonb_build_array(tests.lead_event('status', 6201, 1700001000, 142, 100, 500, 30)));

select results_eq(format($$select to_status_id, extract(epoch from changed_at)::bigint, source from public.amocrm_lead_status_history
  where user_account_id = %L and amocrm_lead_id = 6201 and to_status_id = 142$$, :'acc'),
  $$values (142, 1700001000::bigint, 'webhook'::text)$$, 'the guessed win gives way to the real one');
select is((select count(*) from public.amocrm_lead_status_history where user_account_id = :'acc' and amocrm_lead_id = 6201),
  2::bigint, 'history: the placement and the win, nothing else');

select * from finish();
rollback;
