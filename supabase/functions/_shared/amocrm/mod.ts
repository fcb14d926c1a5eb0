// Public surface of the shared amoCRM client. Import from here, not from the individual modules.
export { AmoCrmClient, createAmoCrmClient } from "./client.ts";
export type { AmoCrmClientConfig, EventsFilter, LeadsUpdatedWindow, WebhookSubscription } from "./client.ts";
export { DEFAULT_CLIENT_OPTIONS, defaultSql } from "./deps.ts";
export type { AmoCrmClientOptions, AmoCrmDeps, Sql } from "./deps.ts";
export * from "./errors.ts";
export { accountIdFromAccessToken, keepAliveIdleConnections } from "./oauth.ts";
export type { ExchangeResult, KeepAliveOptions, KeepAliveReport, RefreshResult } from "./oauth.ts";
export type { ApiRequest, ApiResponse } from "./request.ts";
export * from "./schemas.ts";
export { accountBaseUrl, AMOCRM_BASE_DOMAINS } from "./urls.ts";
export type { ConnectionAddress, QueryParams } from "./urls.ts";
export { DEFAULT_RETRY_POLICY, fullJitterDelayMs } from "./backoff.ts";
export type { RetryPolicy } from "./backoff.ts";
