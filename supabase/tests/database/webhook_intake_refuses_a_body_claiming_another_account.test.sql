-- amoCRM webhooks carry no signature of their own, only the account they come from (account[id],
-- account[subdomain]). The storing statement refuses a POST whose body claims an amoCRM account or subdomain
-- other than the connection's (a URL leaked to another account); the connection's own claims, in any letter
-- case, and a body without claims are stored.
begin;
select plan(5);

select tests.create_account('Claimed account agency') as acc \gset
insert into amocrm.connections (user_account_id, subdomain, state, amocrm_account_id)
values (:'acc', 'claimed', 'active', 31337);

create function pg_temp.stored(p_acc uuid, p_account text, p_subdomain text) returns bigint language sql as $$
  select count(*) from private.receive_webhook_if_connected(p_acc, 1, p_account, p_subdomain,
    'application/x-www-form-urlencoded', 'leads[add][0][id]=1',
    jsonb_build_array(tests.lead_event('add', 1, 1700000100, 10, 100)))
$$;

select is(pg_temp.stored(:'acc', '999', 'claimed'), 0::bigint, 'a body claiming another amoCRM account id is refused');
select is(pg_temp.stored(:'acc', '31337', 'other'), 0::bigint, 'a body claiming another subdomain is refused');
select is((select count(*) from amocrm.webhook_inbox where user_account_id = :'acc'), 0::bigint,
  '... and neither is stored');
select is(pg_temp.stored(:'acc', '31337', 'Claimed'), 1::bigint, 'the connection''s own account and subdomain are stored');
select is(pg_temp.stored(:'acc', null, null), 1::bigint, 'a body without account claims is stored');

select * from finish();
rollback;
