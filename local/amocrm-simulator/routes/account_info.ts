import { hal } from "../responses.ts";
import type { ApiRequest } from "./api_request.ts";

/** GET /api/v4/account — what an integration reads right after OAuth to learn the account id. */
export function getAccount(req: ApiRequest): Response {
  const { account } = req;
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
    currency: "RUB",
    currency_symbol: "₽",
    customers_mode: "disabled",
    is_unsorted_on: true,
    is_loss_reason_enabled: true,
    is_helpbot_enabled: false,
    is_technical_account: false,
    contact_name_display_order: 1,
    _links: { self: { href: `${account.baseUrl}/api/v4/account` } },
  });
}
