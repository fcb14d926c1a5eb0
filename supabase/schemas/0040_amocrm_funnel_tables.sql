-- The funnel tables the dashboard reads (requirements: Step 3): the account's pipeline stages with the
-- configurable qualified flag, and every status transition of a deal. Where each product lead is now
-- (leads.current_*, is_qualified) is declared with the product tables (0020) and kept by triggers (0220).
create index idx_leads_pipeline_status
  on public.leads (current_pipeline_id, current_status_id)
  where current_pipeline_id is not null;

create table public.amocrm_pipeline_stages (
  id uuid primary key default gen_random_uuid(),
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  pipeline_id integer not null,
  pipeline_name text not null,
  status_id integer not null,
  status_name text not null,
  status_color text,
  is_qualified_stage boolean default false,
  sort_order integer,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_account_id, pipeline_id, status_id),
  -- Pipeline and stage sync (the dashboard's "refresh pipelines"): GET /api/v4/leads/pipelines is upserted into
  -- public.amocrm_pipeline_stages. The qualified flag belongs to the user and survives every sync; a stage
  -- that vanished from amoCRM is archived, not deleted, because history still refers to it.
  status_type integer,
  is_archived boolean not null default false,
  archived_at timestamptz,
  synced_at timestamptz
);

create index idx_amocrm_stages_user on public.amocrm_pipeline_stages (user_account_id);

create table public.amocrm_lead_status_history (
  id uuid primary key default gen_random_uuid(),
  lead_id bigint,
  amocrm_lead_id bigint,
  from_status_id integer,
  to_status_id integer,
  from_pipeline_id integer,
  to_pipeline_id integer,
  changed_at timestamptz default now(),
  webhook_data jsonb,
  created_at timestamptz not null default now(),
  -- RLS needs the owning account on every row; history of deals the product did not create has no lead_id.
  user_account_id uuid references public.user_accounts (id) on delete cascade,
  source text not null default 'webhook' check (source in ('webhook', 'api', 'events_api')),
  event_key text,
  -- History belongs to a lead of its own account only.
  constraint amocrm_lead_status_history_lead_same_account_fkey foreign key (lead_id, user_account_id)
    references public.leads (id, user_account_id) on delete cascade
);

create index idx_amocrm_history_lead
  on public.amocrm_lead_status_history (lead_id, changed_at desc);

create index idx_amocrm_history_amocrm_lead
  on public.amocrm_lead_status_history (amocrm_lead_id, changed_at desc);

create index amocrm_lead_status_history_lead_account_idx
  on public.amocrm_lead_status_history (lead_id, user_account_id);

create index amocrm_lead_status_history_user_account_id_idx
  on public.amocrm_lead_status_history (user_account_id);
