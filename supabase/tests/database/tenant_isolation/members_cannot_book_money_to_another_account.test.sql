-- Hole 2 of the tenant review: a member of A wrote a sale of A pointing at a lead of B; the lead_id foreign key
-- ignores RLS and the security-definer rollup trigger booked the money to the lead's account, so B's funnel
-- showed revenue 1,003,000 and ROI 81,180 %. Sales come from amoCRM only (the integration), and every reference
-- stays inside its row's account: not even the service role can point A's sale at B's lead.
begin;
select plan(13);

select tests.create_user('money-alice@example.com') as alice \gset
select tests.create_account('Money A', :'alice') as acc_a \gset
select tests.create_account('Money B') as acc_b \gset
select tests.seed_tenant(:'acc_a', 'money-a');
select tests.seed_tenant(:'acc_b', 'money-b');
select min(id) as lead_b from public.leads where user_account_id = :'acc_b' \gset
select id as sale_a from public.sales where user_account_id = :'acc_a' \gset
create temp table before_b as select * from tests.account_fingerprint(:'acc_b');
grant select on before_b to authenticated;

select results_eq(format('select revenue, roi from public.creative_funnel(%L)', :'acc_b'),
  $$values (3000.00::numeric, 143.00::numeric)$$, 'B starts at revenue 3,000 and ROI 143 %');

select tests.authenticate_as(:'alice');
select throws_ok(format(
  'insert into public.sales (user_account_id, lead_id, amount, status, amocrm_deal_id) values (%L, %s, 1000000, %L, 777777)',
  :'acc_a', :'lead_b', 'paid'), '42501', null, 'a member cannot insert a sale (even in their own account)');
select throws_ok(format(
  'insert into public.sales (user_account_id, lead_id, amount, status, amocrm_deal_id) values (%L, %s, -1000000, %L, 777778)',
  :'acc_a', :'lead_b', 'paid'), '42501', null, 'nor a negative one');
select throws_ok(format('update public.sales set lead_id = %s where id = %L', :'lead_b', :'sale_a'),
  '42501', null, 'a member cannot move their own sale onto another account''s lead');
select throws_ok(format('update public.sales set amount = 1000000 where id = %L', :'sale_a'),
  '42501', null, 'a member cannot change a sale''s amount');
select throws_ok(format('delete from public.sales where id = %L', :'sale_a'),
  '42501', null, 'a member cannot delete a sale');
select throws_ok(format(
  'insert into public.purchases (user_account_id, client_phone, amount) values (%L, %L, 1000000)',
  :'acc_a', '+7 900 111-00-01'), '42501', null, 'a member cannot record a purchase');
select tests.clear_authentication();

-- The integration itself cannot cross accounts either: the reference is (user_account_id, lead_id).
select tests.authenticate_as_service_role();
select throws_ok(format(
  'insert into public.sales (user_account_id, lead_id, amount, status, amocrm_deal_id) values (%L, %s, 1000000, %L, 777779)',
  :'acc_a', :'lead_b', 'paid'), '23503', null, 'a sale of A cannot reference a lead of B, even from the service');
select throws_ok(format('update public.sales set lead_id = %s where id = %L', :'lead_b', :'sale_a'),
  '23503', null, 'nor can an existing sale of A be moved onto B''s lead');
-- A foreign key does not check a row whose account is null; the money trigger does.
select throws_ok(format(
  'insert into public.sales (user_account_id, lead_id, amount, status, amocrm_deal_id) values (null, %s, 1000000, %L, 777780)',
  :'lead_b', 'paid'), '23503', null, 'a paid sale without an account cannot book money onto B''s lead');
select tests.clear_authentication();

select is_empty($$select * from before_b except select * from tests.account_fingerprint(
  (select id from public.user_accounts where name = 'Money B'))$$,
  'every row, rollup, funnel and total of B is byte-identical to before');
-- A crossing row that predates the constraint (left NOT VALID and reported by the migration) is not B's money
-- either: the rebuild joins a sale to its lead on the account too. (Replica mode skips the key's check and the
-- triggers, as rows written before the constraint existed did.)
set local session_replication_role = replica;
insert into public.sales (user_account_id, lead_id, amount, status, amocrm_deal_id) values (:'acc_a', :'lead_b', 1000000, 'paid', 777781);
set local session_replication_role = origin;
select private.analytics_rebuild(:'acc_b');
select results_eq(format('select revenue, roi from public.creative_funnel(%L)', :'acc_b'),
  $$values (3000.00::numeric, 143.00::numeric)$$,
  'a rebuild of B from scratch gives the same 3,000 and 143 %, even with a pre-existing crossing sale of A');
select results_eq(format('select unreconciled_revenue from public.account_revenue_totals where user_account_id = %L', :'acc_b'),
  $$values (0::numeric)$$, 'B''s revenue totals reconcile');

select * from finish();
rollback;
