// The amoCRM account's currency and time zone (GET /api/v4/account?with=datetime_settings), kept on the
// connection: revenue is in that currency, and analytics days follow that zone unless the user account chose
// its own. Read at connect and at every pipeline sync; a changed zone rebuilds the account's rollups (SQL side).
import type { AmoAccount, AmoCrmClient, Sql } from "../amocrm/mod.ts";

export interface AccountSettings {
  currency: string | null;
  currencySymbol: string | null;
  timezone: string | null;
}

export async function recordAccountSettings(
  sql: Sql,
  userAccountId: string,
  account: AmoAccount,
): Promise<AccountSettings | null> {
  const [row] = await sql<{ settings: AccountSettings | null }[]>`
    select private.record_amocrm_account_settings(${userAccountId}, ${account.currency ?? null},
      ${account.currency_symbol ?? null}, ${
    account._embedded?.datetime_settings?.timezone ?? null
  }) as settings`;
  return row?.settings ?? null;
}

export async function syncAccountSettings(
  sql: Sql,
  client: AmoCrmClient,
  userAccountId: string,
): Promise<AccountSettings | null> {
  return await recordAccountSettings(sql, userAccountId, await client.getAccount());
}
