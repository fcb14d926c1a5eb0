-- The mirror of amoCRM deals (amoCRM calls them leads) per user account, and the sales/purchases columns the
-- money path needs. Every amoCRM deal is kept here, including deals a manager opened by hand: those link to a
-- product lead by the main contact's normalized phone when one matches, otherwise they stay unattributed so
-- revenue is never dropped. public.leads.current_* are a denormalized copy of the linked deal's state.
create table public.amocrm_deals (
  user_account_id uuid not null references public.user_accounts (id) on delete cascade,
  amocrm_lead_id bigint not null,
  name text,
  pipeline_id integer,
  status_id integer,
  price numeric(14, 2),
  responsible_user_id bigint,
  amocrm_created_at timestamptz,
  -- amoCRM's updated_at of the state stored here: an event older than this never overwrites it.
  amocrm_updated_at timestamptz,
  -- Breaks ties between events of the same second deterministically (see private.apply_lead_event).
  state_tiebreak text not null default '',
  closed_at timestamptz,
  is_deleted boolean not null default false,
  deleted_at timestamptz,
  main_contact_id bigint,
  contact_phone_e164 text,
  -- The product lead this deal belongs to, and how we know.
  lead_id bigint,
  attribution text check (attribution in ('amocrm_lead_id', 'phone')),
  is_qualified boolean not null default false,
  qualified_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_account_id, amocrm_lead_id),
  -- When the observation is_deleted comes from was made (deletion has its own order: 0235).
  deletion_seen_at timestamptz,
  -- The deal as the amoCRM API last returned it (apply_deal_snapshot): sales are settled from this copy only,
  -- never from webhook state (see private.settle_sale). price is price_with_minor_units where amoCRM gives it.
  api_status_id integer,
  api_pipeline_id integer,
  api_price numeric(14, 2),
  api_closed_at timestamptz,
  api_updated_at timestamptz,
  -- API reads in a row that were older than a webhook's state; each one queues a later re-read, up to
  -- private.max_stale_api_reads(), then the sale is settled from the API copy as it is.
  stale_api_reads integer not null default 0,
  -- A deal links to a product lead of its own account only.
  constraint amocrm_deals_lead_same_account_fkey foreign key (lead_id, user_account_id)
    references public.leads (id, user_account_id) on delete set null (lead_id)
);

create index amocrm_deals_lead_id_idx on public.amocrm_deals (lead_id, user_account_id);

create index amocrm_deals_contact_phone_idx on public.amocrm_deals (user_account_id, contact_phone_e164);

create index amocrm_deals_updated_idx on public.amocrm_deals (user_account_id, amocrm_updated_at);

create trigger touch_updated_at before update on public.amocrm_deals
  for each row execute function private.touch_updated_at();

create unique index sales_account_deal_key on public.sales (user_account_id, amocrm_deal_id);

create index sales_lead_id_idx on public.sales (lead_id, user_account_id);

create unique index purchases_account_deal_key on public.purchases (user_account_id, amocrm_deal_id);

-- One history row per real transition, whichever path (webhook, reconcile, Events API) reported it first.
create unique index amocrm_lead_status_history_event_key
  on public.amocrm_lead_status_history (user_account_id, event_key);

alter table public.amocrm_deals enable row level security;

revoke all on public.amocrm_deals from anon, authenticated;

grant select on public.amocrm_deals to authenticated;

grant all on public.amocrm_deals to service_role;

create policy "members select" on public.amocrm_deals for select to authenticated
  using (user_account_id in (select private.my_user_account_ids()));
