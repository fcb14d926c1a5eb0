import type { Account } from "../account.ts";
import type { Query } from "../query_params.ts";

/** An authenticated API call, already resolved to its account. */
export interface ApiRequest {
  account: Account;
  method: string;
  /** Path below the account prefix, e.g. "/api/v4/leads/123". */
  path: string;
  /** Query string without "?", as sent (used to build `_links`). */
  rawSearch: string;
  query: Query;
  request: Request;
}
