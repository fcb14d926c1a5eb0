import { stringList } from "../query_params.ts";
import { hal } from "../responses.ts";
import type { ApiRequest } from "./api_request.ts";

/** "+03:00" for Europe/Moscow at `at` (what amoCRM's `timezone_offset` shows). */
function utcOffset(timezone: string, at: Date): string {
  const name = new Intl.DateTimeFormat("en-US", { timeZone: timezone, timeZoneName: "longOffset" })
    .formatToParts(at).find((part) => part.type === "timeZoneName")?.value ?? "GMT";
  const offset = name.replace("GMT", "");
  return offset === "" ? "+00:00" : offset;
}

/**
 * GET /api/v4/account — what an integration reads right after OAuth to learn the account id. `currency` and
 * `currency_symbol` are in the SDK's AccountModel (not in the RU docs' table); `?with=datetime_settings` adds
 * `_embedded.datetime_settings` with `timezone` and `timezone_offset` (amoCRM API v4 docs, "Account").
 */
export function getAccount(req: ApiRequest): Response {
  const { account } = req;
  const withs = stringList(req.query.with);
  const embedded = withs.includes("datetime_settings")
    ? {
      _embedded: {
        datetime_settings: {
          timezone: account.timezone,
          timezone_offset: utcOffset(account.timezone, new Date()),
        },
      },
    }
    : {};
  return hal({
    id: account.id,
    name: account.subdomain,
    subdomain: account.subdomain,
    created_at: 1_500_000_000,
    created_by: account.users[0],
    updated_at: 1_500_000_000,
    updated_by: account.users[0],
    current_user_id: account.users[0],
    country: "RU",
    currency: account.currency,
    currency_symbol: account.currencySymbol,
    customers_mode: "disabled",
    is_unsorted_on: true,
    is_loss_reason_enabled: true,
    is_helpbot_enabled: false,
    is_technical_account: false,
    contact_name_display_order: 1,
    _links: {
      self: { href: `${account.baseUrl}/api/v4/account${req.rawSearch ? `?${req.rawSearch}` : ""}` },
    },
    ...embedded,
  });
}
