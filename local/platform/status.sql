-- `npm run status`: one line per connected amoCRM account and the queue, for an operator at a glance.
select format('account %s  amoCRM %s.%s  state %s%s  breaker %s',
  c.user_account_id, c.subdomain, c.base_domain, c.state,
  coalesce(' (' || c.state_reason || ')', ''), case when c.breaker_open then 'OPEN: ' || c.breaker_reason else 'closed' end)
from amocrm.connections c order by c.created_at;
select format('jobs            %s', coalesce(string_agg(state || '=' || n, ' '), 'none'))
from (select state, count(*) n from amocrm.jobs group by state order by state) s;
select format('webhook inbox   %s', coalesce(string_agg(state || '=' || n, ' '), 'empty'))
from (select state, count(*) n from amocrm.webhook_inbox group by state order by state) s;
