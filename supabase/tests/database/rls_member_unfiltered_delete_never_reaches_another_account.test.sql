-- A member's DELETE without a WHERE clause removes nothing: members delete no product rows at all (README
-- "Security": the product's service side writes them), so every such delete is refused by privileges and both
-- accounts keep their rows. Without a WHERE, Postgres would apply only a DELETE policy, so this is the case
-- that would show a table opened to members again.
begin;
select plan(18);

select tests.create_user('unfiltered-alice@example.com') as alice \gset
select tests.create_user('unfiltered-bob@example.com') as bob \gset
select tests.create_account('Unfiltered Alice agency', :'alice') as acc_a \gset
select tests.create_account('Unfiltered Bob agency', :'bob') as acc_b \gset

do $$
declare
  acc uuid;
  dir uuid;
  cre uuid;
begin
  foreach acc in array array[
    (select id from public.user_accounts where name = 'Unfiltered Alice agency'),
    (select id from public.user_accounts where name = 'Unfiltered Bob agency')
  ] loop
    insert into public.directions (user_account_id, name) values (acc, 'dir') returning id into dir;
    insert into public.creatives (user_account_id, direction_id, name) values (acc, dir, 'cre') returning id into cre;
    insert into public.leads (user_account_id, creative_id, direction_id, phone) values (acc, cre, dir, '+79003000001');
    insert into public.purchases (user_account_id, client_phone, amount) values (acc, '+79003000001', 100);
    insert into public.sales (user_account_id, amocrm_deal_id, amount, status) values (acc, 1, 100, 'paid');
    insert into public.ad_spend_daily (user_account_id, creative_id, spend_date, amount, currency)
      values (acc, cre, '2026-01-05', 10, 'RUB');
  end loop;
end $$;

-- Alice deletes everything she can reach, table by table (children first), with no WHERE clause.
create function pg_temp.delete_all_as(p_user uuid, p_table text) returns bigint language plpgsql as $$
declare
  n bigint;
begin
  perform tests.authenticate_as(p_user);
  begin
    execute format('delete from public.%I', p_table);
    get diagnostics n = row_count;
  exception when insufficient_privilege then
    n := -1; -- refused
  end;
  perform tests.clear_authentication();
  return n;
end $$;

create function pg_temp.rows_of(p_table text, p_account uuid) returns bigint language plpgsql as $$
declare
  n bigint;
begin
  execute format('select count(*) from public.%I where user_account_id = %L', p_table, p_account) into n;
  return n;
end $$;

select is(pg_temp.delete_all_as(:'alice', t), -1::bigint, t || ': a member''s unfiltered delete is refused')
from unnest(array['ad_spend_daily', 'sales', 'purchases', 'leads', 'creatives', 'directions']) t;

select is(pg_temp.rows_of(t, :'acc_b'), 1::bigint, t || ': another account''s row is still there')
from unnest(array['ad_spend_daily', 'sales', 'purchases', 'leads', 'creatives', 'directions']) t;

select is(pg_temp.rows_of(t, :'acc_a'), 1::bigint, t || ': and so is the member''s own')
from unnest(array['ad_spend_daily', 'sales', 'purchases', 'leads', 'creatives', 'directions']) t;

select * from finish();
rollback;
