-- The spec's funnel data (seed "Шаг 3"): where each lead is in its amoCRM pipeline, whether it is qualified,
-- the account's pipeline stages with the configurable qualified flag, and every status transition.

alter table public.leads
  add column if not exists current_pipeline_id integer,
  add column if not exists current_status_id integer,
  add column if not exists is_qualified boolean default false;

create index if not exists idx_leads_pipeline_status
  on public.leads (current_pipeline_id, current_status_id)
  where current_pipeline_id is not null;

create table if not exists public.amocrm_pipeline_stages (
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
  unique (user_account_id, pipeline_id, status_id)
);
create index if not exists idx_amocrm_stages_user on public.amocrm_pipeline_stages (user_account_id);

create table if not exists public.amocrm_lead_status_history (
  id uuid primary key default gen_random_uuid(),
  lead_id bigint references public.leads (id) on delete cascade,
  amocrm_lead_id bigint,
  from_status_id integer,
  to_status_id integer,
  from_pipeline_id integer,
  to_pipeline_id integer,
  changed_at timestamptz default now(),
  webhook_data jsonb,
  created_at timestamptz not null default now()
);
-- RLS needs the owning account on every row; history of deals the product did not create has no lead_id.
alter table public.amocrm_lead_status_history
  add column if not exists user_account_id uuid references public.user_accounts (id) on delete cascade;

create index if not exists idx_amocrm_history_lead
  on public.amocrm_lead_status_history (lead_id, changed_at desc);
create index if not exists idx_amocrm_history_amocrm_lead
  on public.amocrm_lead_status_history (amocrm_lead_id, changed_at desc);
create index if not exists amocrm_lead_status_history_user_account_id_idx
  on public.amocrm_lead_status_history (user_account_id);
