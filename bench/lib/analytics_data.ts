// Set-based generation of one user account's funnel data (generate_series inserts, never row by row):
// directions, creatives with ~60-day active windows, leads, status history, sales, product purchases, ad spend,
// the pipeline catalog, and one member to query as. The analytics triggers stay on, so loading also exercises
// the bulk path (statement-level insert triggers, row-level sale triggers).
import type postgres from "postgres";

export interface AccountShape {
  name: string;
  leads: number;
  creatives: number;
  directions: number;
  /** Days of history, ending yesterday (UTC). */
  days: number;
  /** Days a creative runs. */
  creativeLifetime: number;
}

export interface GeneratedAccount {
  accountId: string;
  memberId: string;
}

const CHUNK = 250_000;

export async function generateAccount(
  sql: postgres.Sql,
  shape: AccountShape,
  log: (msg: string) => void,
): Promise<GeneratedAccount> {
  const { leads, creatives, directions, days, creativeLifetime } = shape;
  // 20% of leads share a phone with another lead: repeat clients, so purchases have several candidates.
  const phones = Math.max(1, Math.floor(leads * 0.8));

  const [{ id: accountId }] = await sql<{ id: string }[]>`
    insert into public.user_accounts (name) values (${shape.name}) returning id`;
  const [{ id: memberId }] = await sql<{ id: string }[]>`
    insert into auth.users (email) values (${`${crypto.randomUUID()}@bench.local`}) returning id`;
  await sql`insert into public.user_account_members (user_account_id, user_id) values (${accountId}, ${memberId})`;
  // Connected to a Moscow account in roubles: analytics days are Moscow days, revenue and spend both in RUB.
  await sql`
    insert into amocrm.connections (user_account_id, subdomain, account_currency, account_timezone)
    values (${accountId}, ${`bench${accountId.slice(0, 8)}`}, 'RUB', 'Europe/Moscow')`;

  await sql`
    insert into public.amocrm_pipeline_stages
      (user_account_id, pipeline_id, pipeline_name, status_id, status_name, sort_order, is_qualified_stage)
    values (${accountId}, 100, 'Sales', 10, 'New', 10, false), (${accountId}, 100, 'Sales', 20, 'Talk', 20, false),
      (${accountId}, 100, 'Sales', 30, 'Meeting', 30, true), (${accountId}, 100, 'Sales', 40, 'Contract', 40, false),
      (${accountId}, 100, 'Sales', 142, 'Won', 10000, false), (${accountId}, 100, 'Sales', 143, 'Lost', 11000, false)`;

  await sql`
    insert into public.directions (user_account_id, name)
    select ${accountId}, 'Direction ' || g from generate_series(1, ${directions}::int) g`;
  await sql`drop table if exists bench_directions, bench_creatives`;
  await sql`
    create temp table bench_directions as
    select (row_number() over (order by id) - 1)::int as idx, id from public.directions where user_account_id = ${accountId}`;
  await sql`
    insert into public.creatives (user_account_id, direction_id, name)
    select ${accountId}, d.id, 'Creative ' || g
    from generate_series(0, ${creatives - 1}::int) g
    join bench_directions d on d.idx = g % ${directions}::int`;
  // Each creative runs for creativeLifetime days starting somewhere in the period.
  await sql`
    create temp table bench_creatives as
    select (row_number() over (order by id) - 1)::int as idx, id, direction_id,
      ((row_number() over (order by id) - 1) * 7919 % ${days - creativeLifetime}::int)::int as start_day
    from public.creatives where user_account_id = ${accountId}`;

  // Day 0 of the period, so the last day is yesterday (UTC).
  const [{ t0 }] = await sql<{ t0: string }[]>`
    select ((now() at time zone 'UTC')::date - ${days}::int)::text as t0`;

  // No amocrm_lead_id on the leads: private.link_lead_to_existing_deals (another migration) takes one advisory
  // lock per inserted lead that has one, and 250k of them in one statement exhaust the lock table. The history
  // and sales below use the lead id as the amoCRM deal id instead.
  for (let lo = 1; lo <= leads; lo += CHUNK) {
    const hi = Math.min(leads, lo + CHUNK - 1);
    log(`leads ${lo.toLocaleString("en")}..${hi.toLocaleString("en")}`);
    // 10% without creative, 2% without direction; 30% qualified; 6% won.
    await sql`
      insert into public.leads (user_account_id, creative_id, direction_id, phone, is_qualified, created_at,
        current_pipeline_id, current_status_id)
      select ${accountId},
        case when s.g % 10 = 0 then null else c.id end,
        case when s.g % 10 = 0 then d.id when s.g % 50 = 1 then null else c.direction_id end,
        '+7901' || lpad((s.g % ${phones}::int)::text, 7, '0'),
        s.q,
        ${t0}::date::timestamp at time zone 'UTC'
          + (c.start_day + (s.g / ${creatives}::int) % ${creativeLifetime}::int) * interval '1 day'
          + (s.g % 86400) * interval '1 second',
        100,
        case when s.q then (array[30, 40, 142, 40, 143])[1 + s.g % 5] else (array[10, 20, 20, 143])[1 + s.g % 4] end
      from (select g, random() < 0.3 as q from generate_series(${lo}::int, ${hi}::int) g) s
      join bench_creatives c on c.idx = s.g % ${creatives}::int
      join bench_directions d on d.idx = s.g % ${directions}::int`;
  }

  const [{ min_id, max_id }] = await sql<{ min_id: string; max_id: string }[]>`
    select min(id)::text as min_id, max(id)::text as max_id from public.leads where user_account_id = ${accountId}`;
  for (let lo = Number(min_id); lo <= Number(max_id); lo += CHUNK) {
    const hi = Math.min(Number(max_id), lo + CHUNK - 1);
    log(`history for leads ${lo.toLocaleString("en")}..${hi.toLocaleString("en")}`);
    // The path to where the lead is now, a few hours per step.
    await sql`
      insert into public.amocrm_lead_status_history (user_account_id, lead_id, amocrm_lead_id, from_pipeline_id,
        from_status_id, to_pipeline_id, to_status_id, changed_at, source)
      select l.user_account_id, l.id, l.id, case when p.prev is not null then 100 end, p.prev, 100, p.st,
        l.created_at + (p.k - 1) * (1 + l.id % 5) * interval '7 hours', 'webhook'
      from public.leads l
      cross join lateral (
        select u.st, u.k, lag(u.st) over (order by u.k) as prev
        from unnest(case l.current_status_id
          when 10 then array[10] when 20 then array[10, 20] when 30 then array[10, 20, 30]
          when 40 then array[10, 20, 30, 40] when 142 then array[10, 20, 30, 40, 142]
          else array[10, 20, 143] end) with ordinality as u (st, k)
      ) p
      where l.user_account_id = ${accountId} and l.id between ${lo} and ${hi}`;
  }

  log(
    "sales (won → paid; some lost → cancelled, some reopened → pending; 0.5% of leads' worth unattributed)",
  );
  await sql`
    insert into public.sales (user_account_id, amocrm_deal_id, lead_id, amount, status, closed_at, client_phone)
    select l.user_account_id, l.id, l.id, round((1000 + random() * 49000)::numeric, 2),
      case when l.current_status_id = 142 then 'paid' when l.id % 2 = 0 then 'cancelled' else 'pending' end,
      l.created_at + interval '1 day' * (l.id % 15), l.phone
    from public.leads l
    where l.user_account_id = ${accountId} and (l.current_status_id = 142 or (l.current_status_id = 143 and l.id % 10 = 0))`;
  await sql`
    insert into public.sales (user_account_id, amocrm_deal_id, lead_id, amount, status, closed_at)
    select ${accountId}, 1000000000000 + g, null, round((1000 + random() * 49000)::numeric, 2), 'paid',
      ${t0}::date + (g % ${days}::int)
    from generate_series(1, ${Math.ceil(leads / 200)}::int) g`;

  log("product purchases (3% of leads' worth, phones from the lead pool)");
  await sql`
    insert into public.purchases (user_account_id, client_phone, amount, purchase_date)
    select ${accountId}, '+7901' || lpad(((g * 7919) % ${phones}::int)::text, 7, '0'),
      round((500 + random() * 5000)::numeric, 2),
      ${t0}::date::timestamp at time zone 'UTC' + random() * ${days}::int * interval '1 day'
    from generate_series(1, ${Math.ceil(leads * 0.03)}::int) g`;

  log("ad spend (every creative, every active day)");
  await sql`
    insert into public.ad_spend_daily (user_account_id, creative_id, spend_date, amount, currency)
    select ${accountId}, c.id, ${t0}::date + c.start_day + d, round((500 + random() * 4500)::numeric, 2), 'RUB'
    from bench_creatives c cross join generate_series(0, ${creativeLifetime - 1}::int) d`;

  return { accountId, memberId };
}
