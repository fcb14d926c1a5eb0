-- Hole 1 of the tenant review: amocrm_connection_status is a security-invoker view over a security-definer
-- function. The function's "is the caller the service?" test looked at current_user, which inside a
-- security-definer function is always its owner, so every signed-in user read every tenant's row. It also
-- trusted the JWT's role claim, which is data, not the session's role.
begin;
select plan(6);

select tests.create_user('cs-alice@example.com') as alice \gset
select tests.create_user('cs-eve@example.com') as eve \gset
select tests.create_account('CS A', :'alice') as acc_a \gset
select tests.create_account('CS B') as acc_b \gset
insert into amocrm.connections (user_account_id, subdomain, state)
values (:'acc_a', 'cs-a', 'active'), (:'acc_b', 'cs-b', 'active');

select tests.authenticate_as(:'eve');
select is((select count(*) from public.amocrm_connection_status where user_account_id in (:'acc_a', :'acc_b')),
  0::bigint, 'a signed-in user with no membership sees no tenant''s connection');
select is((select count(*) from private.connection_statuses() where user_account_id in (:'acc_a', :'acc_b')),
  0::bigint, 'calling the function behind the view directly shows nothing either');
select set_config('request.jwt.claims',
  json_build_object('sub', :'eve', 'role', 'service_role')::text, true);
select is((select count(*) from public.amocrm_connection_status where user_account_id in (:'acc_a', :'acc_b')),
  0::bigint, 'a JWT that claims role service_role does not make the session the service');
select tests.clear_authentication();

select tests.authenticate_as(:'alice');
select results_eq(
  format('select user_account_id, subdomain from public.amocrm_connection_status where user_account_id in (%L, %L)',
    :'acc_a', :'acc_b'),
  format('values (%L::uuid, %L::text)', :'acc_a', 'cs-a'),
  'a member sees exactly their own account''s connection');
select tests.clear_authentication();

select tests.authenticate_as_service_role();
select is((select count(*) from public.amocrm_connection_status where user_account_id in (:'acc_a', :'acc_b')),
  2::bigint, 'the service role sees every connection');
select tests.clear_authentication();

select is((select count(*) from public.amocrm_connection_status where user_account_id in (:'acc_a', :'acc_b')),
  2::bigint, 'the operator (postgres, SQL editor) sees every connection');

select * from finish();
rollback;
