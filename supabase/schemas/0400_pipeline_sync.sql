-- Pipeline and stage sync, SQL side: the amocrm-sync-pipelines function reads GET /api/v4/leads/pipelines and
-- hands it to private.sync_pipeline_stages, which upserts public.amocrm_pipeline_stages in one statement:
-- the user's qualified flags survive, a stage amoCRM no longer has is archived (history still refers to it).
create or replace function private.sync_pipeline_stages(p_user_account_id uuid, p_pipelines jsonb)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_seen integer;
  v_archived integer;
  -- A stage counts as vanished when this sync did not touch it (synced_at < this sync's time). The statement's
  -- clock, not the transaction's: two syncs in one transaction must not share a marker.
  v_now timestamptz := clock_timestamp();
begin
  -- p_pipelines is the API's `_embedded.pipelines` array.
  with incoming as (
    select
      (p ->> 'id')::integer as pipeline_id,
      p ->> 'name' as pipeline_name,
      (s ->> 'id')::integer as status_id,
      s ->> 'name' as status_name,
      s ->> 'color' as status_color,
      (s ->> 'sort')::integer as sort_order,
      (s ->> 'type')::integer as status_type
    from jsonb_array_elements(p_pipelines) p,
         jsonb_array_elements(coalesce(p #> '{_embedded,statuses}', '[]'::jsonb)) s
  ), upserted as (
    insert into public.amocrm_pipeline_stages as st (
      user_account_id, pipeline_id, pipeline_name, status_id, status_name, status_color, sort_order, status_type,
      is_archived, archived_at, synced_at
    )
    select p_user_account_id, i.pipeline_id, i.pipeline_name, i.status_id, i.status_name, i.status_color,
      i.sort_order, i.status_type, false, null, v_now
    from incoming i
    on conflict (user_account_id, pipeline_id, status_id) do update set
      pipeline_name = excluded.pipeline_name,
      status_name = excluded.status_name,
      status_color = excluded.status_color,
      sort_order = excluded.sort_order,
      status_type = excluded.status_type,
      is_archived = false,
      archived_at = null,
      synced_at = excluded.synced_at
    returning 1
  )
  select count(*) into v_seen from upserted;

  update public.amocrm_pipeline_stages set is_archived = true, archived_at = v_now
  where user_account_id = p_user_account_id and not is_archived
    and (synced_at is null or synced_at < v_now);
  get diagnostics v_archived = row_count;

  return jsonb_build_object('stages', v_seen, 'archived', v_archived);
end $$;
comment on function private.sync_pipeline_stages(uuid, jsonb) is
  'Upsert an account''s pipelines/stages from the API (names, colors, sort), keep is_qualified_stage, archive '
  'stages amoCRM no longer has. Returns {stages, archived}.';
revoke all on function private.sync_pipeline_stages(uuid,jsonb) from public;
grant execute on function private.sync_pipeline_stages(uuid,jsonb) to service_role;
