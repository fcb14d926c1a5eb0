-- Local-only data (never part of a deploy): the Vault secrets the cron jobs read, and a demo user that owns a
-- demo user account. Idempotent: applied on every `npm start`.

-- Where pg_cron's calls (through net.http_post) reach the functions, and the secret they present.
do $$
begin
  if not exists (select 1 from vault.secrets where name = 'amo_roi_functions_url') then
    perform vault.create_secret('http://127.0.0.1:54321/functions/v1', 'amo_roi_functions_url',
      'Base URL of the Edge Functions, called by pg_cron jobs');
  end if;
  if not exists (select 1 from vault.secrets where name = 'amo_roi_cron_secret') then
    perform vault.create_secret('local-cron-secret', 'amo_roi_cron_secret',
      'Shared secret the cron-invoked functions check (x-cron-secret header)');
  end if;
end $$;

insert into auth.users (id, email, aud, role, email_confirmed_at)
values ('00000000-0000-4000-8000-000000000001', 'demo@amo-roi.local', 'authenticated', 'authenticated', now())
on conflict (id) do nothing;

insert into public.user_accounts (id, name)
values ('00000000-0000-4000-8000-0000000000a1', 'Demo agency')
on conflict (id) do nothing;

insert into public.user_account_members (user_account_id, user_id, role)
values ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-000000000001', 'owner')
on conflict do nothing;
