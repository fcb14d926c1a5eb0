-- A pipeline sync archives the stages amoCRM no longer shows, of the account being synced only: another
-- account's stages (which that sync never saw) stay as they are.
begin;
select plan(2);

select tests.create_account('Synced agency') as acc \gset
select tests.create_account('Bystander sync agency') as other \gset
select tests.seed_pipelines(:'acc');
select tests.seed_pipelines(:'other');

select private.sync_pipeline_stages(:'acc', jsonb_build_array(jsonb_build_object('id', 100, 'name', 'Sales', 'sort', 1,
  '_embedded', jsonb_build_object('statuses', jsonb_build_array(
    jsonb_build_object('id', 10, 'name', 'New', 'sort', 10, 'pipeline_id', 100, 'color', '#fff', 'type', 0),
    jsonb_build_object('id', 142, 'name', 'Won', 'sort', 10000, 'pipeline_id', 100, 'color', '#fff', 'type', 0),
    jsonb_build_object('id', 143, 'name', 'Lost', 'sort', 11000, 'pipeline_id', 100, 'color', '#fff', 'type', 0))))));

select is((select count(*) from public.amocrm_pipeline_stages where user_account_id = :'acc' and is_archived), 7::bigint,
  'the synced account''s vanished stages are archived');
select is((select count(*) from public.amocrm_pipeline_stages where user_account_id = :'other' and is_archived), 0::bigint,
  'another account''s stages are untouched');

select * from finish();
rollback;
