-- The webhook URL's signature carries a key version; rotating the secret raises the connection's
-- webhook_key_version, and a POST signed with an older version is refused by the storing statement itself
-- (nothing stored), alone or in a batch. The current and newer versions are stored.
begin;
select plan(5);

select tests.create_account('Key version agency') as acc \gset
insert into amocrm.connections (user_account_id, subdomain, state, webhook_key_version)
values (:'acc', 'keyversion', 'active', 2);

create function pg_temp.stored(p_acc uuid, p_version integer) returns bigint language sql as $$
  select count(*) from private.receive_webhook_if_connected(p_acc, p_version, null, null,
    'application/x-www-form-urlencoded', 'leads[add][0][id]=1',
    jsonb_build_array(tests.lead_event('add', 1, 1700000100, 10, 100)))
$$;

select is(pg_temp.stored(:'acc', 1), 0::bigint, 'a POST signed with a revoked key version is refused');
select is((select count(*) from amocrm.webhook_inbox where user_account_id = :'acc'), 0::bigint, '... and nothing is stored');
select is(pg_temp.stored(:'acc', 2), 1::bigint, 'the current key version is stored');
select is(pg_temp.stored(:'acc', 3), 1::bigint, 'a newer key version is stored');

select results_eq(format($$select post_index from private.receive_webhooks(jsonb_build_array(
    jsonb_build_object('user_account_id', %1$L, 'key_version', 1, 'content_type', 'x', 'raw_body', 'old',
      'events', jsonb_build_array(tests.lead_event('add', 2, 1700000100, 10, 100))),
    jsonb_build_object('user_account_id', %1$L, 'key_version', 2, 'content_type', 'x', 'raw_body', 'current',
      'events', jsonb_build_array(tests.lead_event('add', 3, 1700000100, 10, 100)))))$$, :'acc'),
  $$values (1)$$, 'in a batch, only the POST with a valid key version is stored');

select * from finish();
rollback;
