-- Row level security and grants. Nothing relies on auto-exposure: every role gets exactly what it needs.
--   authenticated: sees and changes only rows of user accounts it belongs to (private.my_user_account_ids()).
--   anon: nothing.  service_role: everything (it bypasses RLS; grants still apply).

-- Product tables scoped by user_account_id. Members read their accounts' rows. Everything here is written by the
-- product's service side (leads, purchases, ad spend, directions, creatives) or by the integration (sales, the
-- deal state on leads); a member may only rename a direction or a creative. See README "Security".
do $$
declare
  t text;
begin
  foreach t in array array['directions', 'creatives', 'leads', 'purchases', 'sales'] loop
    execute format('alter table public.%I enable row level security', t);
    execute format('revoke all on public.%I from anon, authenticated', t);
    execute format('grant select on public.%I to authenticated', t);
    execute format('grant all on public.%I to service_role', t);
    execute format('drop policy if exists "members select" on public.%I', t);
    execute format('drop policy if exists "members insert" on public.%I', t);
    execute format('drop policy if exists "members update" on public.%I', t);
    execute format('drop policy if exists "members delete" on public.%I', t);
    execute format($p$create policy "members select" on public.%I for select to authenticated
      using (user_account_id in (select private.my_user_account_ids()))$p$, t);
  end loop;
  foreach t in array array['directions', 'creatives'] loop
    execute format('grant update (name) on public.%I to authenticated', t);
    execute format($p$create policy "members update" on public.%I for update to authenticated
      using (user_account_id in (select private.my_user_account_ids()))
      with check (user_account_id in (select private.my_user_account_ids()))$p$, t);
  end loop;
end $$;

-- Identity values are the service's to choose: nobody else may even draw from the lead id sequence.
revoke all on sequence public.leads_id_seq from anon, authenticated;

grant usage on sequence public.leads_id_seq to service_role;

-- user_accounts: members read their accounts and may rename them and choose their analytics time zone;
-- accounts are created by the service.
alter table public.user_accounts enable row level security;

revoke all on public.user_accounts from anon, authenticated;

grant select, update (name, analytics_timezone) on public.user_accounts to authenticated;

grant all on public.user_accounts to service_role;

create policy "members select" on public.user_accounts for select to authenticated
  using (id in (select private.my_user_account_ids()));

create policy "members update" on public.user_accounts for update to authenticated
  using (id in (select private.my_user_account_ids()))
  with check (id in (select private.my_user_account_ids()));

-- user_account_members: a user sees the memberships of the accounts they belong to; the service manages them.
alter table public.user_account_members enable row level security;

revoke all on public.user_account_members from anon, authenticated;

grant select on public.user_account_members to authenticated;

grant all on public.user_account_members to service_role;

create policy "members select" on public.user_account_members for select to authenticated
  using (user_account_id in (select private.my_user_account_ids()));

-- Pipeline stages are synced from amoCRM; members read them and may only flip the qualified flag.
alter table public.amocrm_pipeline_stages enable row level security;

revoke all on public.amocrm_pipeline_stages from anon, authenticated;

grant select, update (is_qualified_stage) on public.amocrm_pipeline_stages to authenticated;

grant all on public.amocrm_pipeline_stages to service_role;

create policy "members select" on public.amocrm_pipeline_stages for select to authenticated
  using (user_account_id in (select private.my_user_account_ids()));

create policy "members update" on public.amocrm_pipeline_stages for update to authenticated
  using (user_account_id in (select private.my_user_account_ids()))
  with check (user_account_id in (select private.my_user_account_ids()));

-- Status history is written by the integration only; members read it.
alter table public.amocrm_lead_status_history enable row level security;

revoke all on public.amocrm_lead_status_history from anon, authenticated;

grant select on public.amocrm_lead_status_history to authenticated;

grant all on public.amocrm_lead_status_history to service_role;

create policy "members select" on public.amocrm_lead_status_history for select to authenticated
  using (user_account_id in (select private.my_user_account_ids()));
