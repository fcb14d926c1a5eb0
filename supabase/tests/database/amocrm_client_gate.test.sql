-- private.amocrm_begin_call(): the gate before every HTTP call — connection state, circuit breaker
-- (open, cool-down probe, operator close) and the current access token.
begin;
select plan(18);

insert into public.user_accounts (id, name) values ('00000000-0000-4000-8000-00000000a001', 'gate test');
insert into amocrm.connections (id, user_account_id, subdomain, base_domain, api_base_url, state, token_kind,
                                access_token, refresh_token, access_token_expires_at, rate_limit_per_second)
values ('00000000-0000-4000-8000-00000000c0a1', '00000000-0000-4000-8000-00000000a001', 'gate-test-acc',
        'amocrm.ru', 'http://127.0.0.1:1/gate-test-acc', 'active', 'oauth', 'tok-1', 'ref-1',
        now() + interval '1 day', 1000000);

select is((select blocked from private.amocrm_begin_call('00000000-0000-4000-8000-0000000000ff')), 'not_found',
  'an unknown connection is refused');

select throws_ok($$select * from private.amocrm_begin_call('00000000-0000-4000-8000-00000000c0a1', 'bogus')$$,
  '22023', null, 'an unknown purpose is refused (it must not slip past the state guard)');

select results_eq(
  $$select wait_ms, blocked, breaker_probe, access_token, api_base_url
      from private.amocrm_begin_call('00000000-0000-4000-8000-00000000c0a1')$$,
  $$values (0, null::text, false, 'tok-1'::text, 'http://127.0.0.1:1/gate-test-acc'::text)$$,
  'an active connection gets a go with its current token and address');

update amocrm.connections set access_token = 'tok-2' where id = '00000000-0000-4000-8000-00000000c0a1';
select is((select access_token from private.amocrm_begin_call('00000000-0000-4000-8000-00000000c0a1')), 'tok-2',
  'the gate always hands out the newest token (refreshed by another instance)');

-- State guard
select private.amocrm_set_connection_state('00000000-0000-4000-8000-00000000c0a1', 'reauth_required', 'revoked');
select results_eq(
  $$select blocked, blocked_reason, access_token from private.amocrm_begin_call('00000000-0000-4000-8000-00000000c0a1')$$,
  $$values ('reauth_required'::text, 'revoked'::text, null::text)$$,
  'a reauth_required connection makes no API calls and gets no token');
select is((select state_reason from amocrm.connections where id = '00000000-0000-4000-8000-00000000c0a1'), 'revoked',
  'set_connection_state stores the reason');
select is((select blocked from private.amocrm_begin_call('00000000-0000-4000-8000-00000000c0a1', 'refresh')),
  'reauth_required', 'nor token refreshes');
select is((select blocked from private.amocrm_begin_call('00000000-0000-4000-8000-00000000c0a1', 'exchange')), null,
  'but an authorization-code exchange (re-authorization) may go');
select private.amocrm_set_connection_state('00000000-0000-4000-8000-00000000c0a1', 'active', null);

-- Breaker
select private.amocrm_open_breaker('00000000-0000-4000-8000-00000000c0a1', '403 on GET /api/v4/leads', interval '1 hour');
select results_eq(
  $$select breaker_open, breaker_reason, breaker_opened_at is not null, breaker_cooldown_until > now()
      from amocrm.connections where id = '00000000-0000-4000-8000-00000000c0a1'$$,
  $$values (true, '403 on GET /api/v4/leads'::text, true, true)$$,
  'open_breaker records reason, opening time and cool-down');
select results_eq(
  $$select blocked, blocked_reason from private.amocrm_begin_call('00000000-0000-4000-8000-00000000c0a1')$$,
  $$values ('breaker_open'::text, '403 on GET /api/v4/leads'::text)$$,
  'an open breaker refuses API calls');
select is((select blocked from private.amocrm_begin_call('00000000-0000-4000-8000-00000000c0a1', 'exchange')),
  'breaker_open', 'and token calls too: nothing goes to a blocked account');

-- Cool-down passed: exactly one half-open probe.
update amocrm.connections set breaker_cooldown_until = now() - interval '1 second'
 where id = '00000000-0000-4000-8000-00000000c0a1';
select results_eq(
  $$select blocked, breaker_probe from private.amocrm_begin_call('00000000-0000-4000-8000-00000000c0a1')$$,
  $$values (null::text, true)$$,
  'after the cool-down one call goes through as the probe');
select is((select blocked from private.amocrm_begin_call('00000000-0000-4000-8000-00000000c0a1')), 'breaker_open',
  'while the probe is out, other calls are still refused');

-- No cool-down: only an operator closes it.
select private.amocrm_open_breaker('00000000-0000-4000-8000-00000000c0a1', 'blocked for good', null);
select is((select breaker_cooldown_until from amocrm.connections where id = '00000000-0000-4000-8000-00000000c0a1'),
  null, 'a breaker without cool-down stays open');
select is(private.amocrm_close_breaker('00000000-0000-4000-8000-00000000c0a1'), true, 'the operator closes it');
select results_eq(
  $$select breaker_open, breaker_reason, breaker_opened_at, breaker_cooldown_until
      from amocrm.connections where id = '00000000-0000-4000-8000-00000000c0a1'$$,
  $$values (false, null::text, null::timestamptz, null::timestamptz)$$,
  'closing clears every breaker field');
select is((select blocked from private.amocrm_begin_call('00000000-0000-4000-8000-00000000c0a1')), null,
  'calls resume once closed');
select is(private.amocrm_close_breaker('00000000-0000-4000-8000-00000000c0a1'), false,
  'closing a closed breaker reports false');

select * from finish();
rollback;
