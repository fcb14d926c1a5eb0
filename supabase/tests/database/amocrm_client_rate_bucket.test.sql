-- The shared token bucket: a token is taken atomically, an empty bucket says how long to wait,
-- buckets are independent, nonsense parameters are refused, and a 429 pause empties the account's bucket.
begin;
select plan(8);

select is(private.amocrm_take_rate_token('test-bucket-a.amocrm.ru', 1, 1), 0, 'a fresh bucket grants a token');
select ok(private.amocrm_take_rate_token('test-bucket-a.amocrm.ru', 1, 1) between 1 and 1000,
  'an empty bucket answers with the milliseconds to wait (at most one token period)');
select is(private.amocrm_take_rate_token('test-bucket-b.amocrm.ru', 1, 1), 0, 'another account has its own bucket');

select is(private.amocrm_take_rate_token('test-bucket-c.amocrm.ru', 1, 3)
        + private.amocrm_take_rate_token('test-bucket-c.amocrm.ru', 1, 3)
        + private.amocrm_take_rate_token('test-bucket-c.amocrm.ru', 1, 3), 0,
  'a bucket with capacity 3 grants a burst of 3');
select ok(private.amocrm_take_rate_token('test-bucket-c.amocrm.ru', 1, 3) > 0, '… and not a fourth');

select throws_ok($$select private.amocrm_take_rate_token('test-bucket-d', 0, 1)$$, '22023', null,
  'a zero rate is refused');

-- A 429 pause: the connection's bucket gives no token for the pause.
insert into public.user_accounts (id, name) values ('00000000-0000-4000-8000-00000000b001', 'bucket test');
insert into amocrm.connections (id, user_account_id, subdomain, base_domain, state)
values ('00000000-0000-4000-8000-00000000c001', '00000000-0000-4000-8000-00000000b001', 'bucket-pause-test',
        'amocrm.ru', 'active');
select is(private.amocrm_take_rate_token('bucket-pause-test.amocrm.ru', 1000, 1), 0, 'a fast bucket grants');
select private.amocrm_pause_rate_bucket('00000000-0000-4000-8000-00000000c001', 5000);
select ok(private.amocrm_take_rate_token('bucket-pause-test.amocrm.ru', 7, 1) > 1000,
  'after a 429 pause nobody gets a token for the pause time');

select * from finish();
rollback;
