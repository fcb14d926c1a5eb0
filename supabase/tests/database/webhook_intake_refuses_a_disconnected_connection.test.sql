-- A connection the user disconnected takes no more webhooks: amoCRM may still deliver to the old subscription,
-- but nothing is stored or applied for it (the function answers 410, which also counts towards amoCRM switching
-- the webhook off). Any other state still stores: a broken token (reauth_required) or an unpaid account does
-- not make the deliveries untrue.
begin;
select plan(4);

select tests.create_account('Disconnected agency') as acc \gset
insert into amocrm.connections (user_account_id, subdomain, base_domain, state, token_kind, access_token,
  amocrm_account_id)
values (:'acc', 'gone-acc', 'amocrm.ru', 'active', 'long_lived', 't', 555);

create function pg_temp.receive(p_acc uuid) returns bigint language sql as $$
  select count(*) from private.receive_webhook_if_connected(p_acc, 1, '555', 'gone-acc',
    'application/x-www-form-urlencoded', 'leads%5Bupdate%5D%5B0%5D%5Bid%5D=1', '[]'::jsonb, null)
$$;

select is(pg_temp.receive(:'acc'), 1::bigint, 'an active connection stores the POST');
update amocrm.connections set state = 'reauth_required' where user_account_id = :'acc';
select is(pg_temp.receive(:'acc'), 1::bigint, 'a connection waiting for re-authorization still stores it');
update amocrm.connections set state = 'disconnected' where user_account_id = :'acc';
select is(pg_temp.receive(:'acc'), 0::bigint, 'a disconnected connection stores nothing');
select is((select count(*) from amocrm.webhook_inbox where user_account_id = :'acc'), 2::bigint,
  'only the two deliveries before the disconnect are in the inbox');

select * from finish();
rollback;
