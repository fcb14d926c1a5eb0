// The amoCRM API client of one connection (one amoCRM account of one user account). Every amoCRM call of the
// system goes through an AmoCrmClient: reads of leads, contacts, pipelines and events, webhook management,
// and the OAuth code exchange.
import type { z } from "zod";
import { chunkIds, equivalentPage, halveBatch, MAX_PAGE_SIZE, shrinkPageSize } from "./batching.ts";
import { type AmoCrmClientOptions, type AmoCrmContext, type AmoCrmDeps, createContext } from "./deps.ts";
import { AmoCrmGatewayTimeoutError, AmoCrmInvalidResponseError, AmoCrmNotFoundError } from "./errors.ts";
import {
  exchangeAuthorizationCode,
  type ExchangeResult,
  refreshAccessToken,
  type RefreshResult,
} from "./oauth.ts";
import { type ApiRequest, apiRequest, type ApiResponse } from "./request.ts";
import {
  accountSchema,
  type AmoAccount,
  type AmoContact,
  type AmoEvent,
  type AmoLead,
  type AmoPipeline,
  type AmoWebhook,
  contactSchema,
  contactsPageSchema,
  eventsPageSchema,
  leadSchema,
  leadsPageSchema,
  pipelinesPageSchema,
  webhookSchema,
  webhooksPageSchema,
} from "./schemas.ts";
import { encodeQuery, pagingOf, type QueryParams, withPaging } from "./urls.ts";

export interface AmoCrmClientConfig {
  connectionId: string;
  deps?: Partial<AmoCrmDeps>;
  options?: Partial<AmoCrmClientOptions>;
}

export interface LeadsUpdatedWindow {
  /** Unix seconds, inclusive. */
  from: number;
  /** Unix seconds, inclusive; open-ended when absent. */
  to?: number;
  /** `with=` relations; default `["contacts"]`. */
  with?: string[];
  /** Page size, ≤ 250 (default 250). */
  limit?: number;
}

export interface EventsFilter {
  /** `filter[type][]`, e.g. `lead_status_changed`. */
  types?: string[];
  /** `filter[entity][]`, e.g. `lead`. */
  entities?: string[];
  /** `filter[entity_id][]`. */
  entityIds?: number[];
  /** `filter[created_at][from|to]`, unix seconds. */
  createdFrom?: number;
  createdTo?: number;
  /** Page size, ≤ 100 (default 100). */
  limit?: number;
}

export interface WebhookSubscription {
  destination: string;
  settings: string[];
  sort?: number;
}

const MAX_EVENTS_PAGE_SIZE = 100;
/** How many 504-driven batch/page shrinks one read may do before it gives up. */
const MAX_SHRINKS = 16;

export class AmoCrmClient {
  readonly connectionId: string;
  readonly #ctx: AmoCrmContext;

  constructor(config: AmoCrmClientConfig) {
    this.connectionId = config.connectionId;
    this.#ctx = createContext(config.connectionId, config.deps, config.options);
  }

  /** Low-level escape hatch: one traced, rate-limited, retried call. Prefer the typed methods. */
  request(request: ApiRequest): Promise<ApiResponse> {
    return apiRequest(this.#ctx, request);
  }

  /** Leads by id (`filter[id][]`, 250 per call, `with=contacts`). Missing ids are simply absent. */
  async getLeadsByIds(ids: Iterable<number>, opts: { with?: string[] } = {}): Promise<AmoLead[]> {
    const withRelations = (opts.with ?? ["contacts"]).join(",") || undefined;
    return await this.#readByIdChunks(ids, "leads", (chunk) => ({
      path: "/api/v4/leads",
      query: { "filter[id][]": chunk, with: withRelations, limit: MAX_PAGE_SIZE },
    }), (body) => parseWith(leadsPageSchema, body, "/api/v4/leads")._embedded.leads);
  }

  /** One lead (`with=contacts` by default); null when amoCRM answers 204 (no such lead). */
  async getLead(id: number, opts: { with?: string[] } = {}): Promise<AmoLead | null> {
    const path = `/api/v4/leads/${positiveInt(id)}`;
    const withRelations = (opts.with ?? ["contacts"]).join(",") || undefined;
    const res = await this.request({ method: "GET", path, query: { with: withRelations }, idempotent: true });
    return res.body === null ? null : parseWith(leadSchema, res.body, path);
  }

  /**
   * Leads whose `updated_at` falls in the window, oldest first (`order[updated_at]=asc`, the order incremental
   * sync needs), one page (≤ 250 leads) per iteration, following `_links.next`. A lead is yielded at most once.
   */
  async *iterateLeadsUpdated(window: LeadsUpdatedWindow): AsyncGenerator<AmoLead[], void, undefined> {
    const query: QueryParams = {
      "filter[updated_at][from]": window.from,
      "filter[updated_at][to]": window.to,
      "order[updated_at]": "asc",
      with: (window.with ?? ["contacts"]).join(",") || undefined,
      limit: clampLimit(window.limit, MAX_PAGE_SIZE),
      page: 1,
    };
    yield* this.#paginate(
      `/api/v4/leads?${encodeQuery(query)}`,
      MAX_PAGE_SIZE,
      (body) => {
        return parseWith(leadsPageSchema, body, "/api/v4/leads");
      },
      (page) => page._embedded.leads,
      (lead) => lead.id,
    );
  }

  /** Contacts by id (`filter[id][]`, 250 per call). */
  async getContactsByIds(ids: Iterable<number>): Promise<AmoContact[]> {
    return await this.#readByIdChunks(ids, "contacts", (chunk) => ({
      path: "/api/v4/contacts",
      query: { "filter[id][]": chunk, limit: MAX_PAGE_SIZE },
    }), (body) => parseWith(contactsPageSchema, body, "/api/v4/contacts")._embedded.contacts);
  }

  /** One contact; null on 204. */
  async getContact(id: number): Promise<AmoContact | null> {
    const path = `/api/v4/contacts/${positiveInt(id)}`;
    const res = await this.request({ method: "GET", path, idempotent: true });
    return res.body === null ? null : parseWith(contactSchema, res.body, path);
  }

  /** All pipelines with their statuses (statuses 142/143 repeat per pipeline: key by pipeline_id + id). */
  /** GET /api/v4/account?with=datetime_settings: id, currency and time zone of the account. */
  async getAccount(): Promise<AmoAccount> {
    const path = "/api/v4/account";
    const res = await this.request({
      method: "GET",
      path,
      query: { with: "datetime_settings" },
      idempotent: true,
    });
    return parseWith(accountSchema, res.body, path);
  }

  async getPipelines(): Promise<AmoPipeline[]> {
    const pipelines: AmoPipeline[] = [];
    for await (
      const page of this.#paginate(
        "/api/v4/leads/pipelines",
        MAX_PAGE_SIZE,
        (body) => parseWith(pipelinesPageSchema, body, "/api/v4/leads/pipelines"),
        (p) => p._embedded.pipelines,
        (p) => p.id,
        false,
      )
    ) pipelines.push(...page);
    return pipelines;
  }

  /** Events (limit ≤ 100), one page per iteration, following `_links.next`. */
  async *iterateEvents(filter: EventsFilter = {}): AsyncGenerator<AmoEvent[], void, undefined> {
    const query: QueryParams = {
      "filter[type][]": filter.types,
      "filter[entity][]": filter.entities,
      "filter[entity_id][]": filter.entityIds,
      "filter[created_at][from]": filter.createdFrom,
      "filter[created_at][to]": filter.createdTo,
      limit: clampLimit(filter.limit, MAX_EVENTS_PAGE_SIZE),
      page: 1,
    };
    yield* this.#paginate(
      `/api/v4/events?${encodeQuery(query)}`,
      MAX_EVENTS_PAGE_SIZE,
      (body) => {
        return parseWith(eventsPageSchema, body, "/api/v4/events");
      },
      (page) => page._embedded.events,
      (event) => event.id,
    );
  }

  /** Webhooks of the account (optionally only those with this destination); check `disabled` to repair. */
  async listWebhooks(opts: { destination?: string } = {}): Promise<AmoWebhook[]> {
    const res = await this.request({
      method: "GET",
      path: "/api/v4/webhooks",
      query: { "filter[destination]": opts.destination },
      idempotent: true,
    });
    if (res.body === null) return [];
    return parseWith(webhooksPageSchema, res.body, "/api/v4/webhooks")._embedded.webhooks;
  }

  /** Subscribes (upsert by destination: same URL → settings replaced). Safe to retry. */
  async subscribeWebhook(subscription: WebhookSubscription): Promise<AmoWebhook> {
    const body: Record<string, unknown> = {
      destination: subscription.destination,
      settings: subscription.settings,
    };
    if (subscription.sort !== undefined) body.sort = subscription.sort;
    const res = await this.request({ method: "POST", path: "/api/v4/webhooks", body, idempotent: true });
    return parseWith(webhookSchema, res.body, "/api/v4/webhooks");
  }

  /**
   * Unsubscribes by destination (amoCRM has no delete by id). Safe to retry. False when the destination was
   * not subscribed: amoCRM's webhooks page answers that with 404, which for us means "already gone".
   */
  async unsubscribeWebhook(destination: string): Promise<boolean> {
    try {
      await this.request({
        method: "DELETE",
        path: "/api/v4/webhooks",
        body: { destination },
        idempotent: true,
      });
      return true;
    } catch (error) {
      if (error instanceof AmoCrmNotFoundError) return false;
      throw error;
    }
  }

  /** Exchanges the consent redirect's `code` for tokens and activates the connection. */
  exchangeAuthorizationCode(code: string): Promise<ExchangeResult> {
    return exchangeAuthorizationCode(this.#ctx, code);
  }

  /** Forces a token refresh now (single-flight, like every refresh). */
  refreshToken(): Promise<RefreshResult> {
    return refreshAccessToken(this.#ctx, { staleAccessToken: null, reason: "forced" });
  }

  /** Chunked by-id read; a 504 splits the chunk in halves and asks again. Results keep amoCRM's order per chunk. */
  async #readByIdChunks<T extends { id: number }>(
    ids: Iterable<number>,
    what: string,
    buildRequest: (chunk: number[]) => { path: string; query: QueryParams },
    extract: (body: unknown) => T[],
  ): Promise<T[]> {
    const results: T[] = [];
    const seen = new Set<number>();
    const pending = chunkIds([...ids].map(positiveInt)).reverse();
    let shrinks = 0;
    while (pending.length > 0) {
      const chunk = pending.pop()!;
      const halves = shrinks < MAX_SHRINKS ? halveBatch(chunk) : null;
      let res: ApiResponse;
      try {
        res = await this.request({
          method: "GET",
          ...buildRequest(chunk),
          idempotent: true,
          throwOn504: !!halves,
        });
      } catch (error) {
        if (error instanceof AmoCrmGatewayTimeoutError && halves) {
          shrinks++;
          this.#ctx.deps.log({
            level: "warn",
            msg: "amocrm.batch_shrunk",
            connection_id: this.connectionId,
            what,
            from: chunk.length,
            to: halves[0].length,
          });
          pending.push(halves[1], halves[0]);
          continue;
        }
        throw error;
      }
      if (res.body === null) continue;
      for (const item of extract(res.body)) {
        if (seen.has(item.id)) continue;
        seen.add(item.id);
        results.push(item);
      }
    }
    return results;
  }

  /**
   * Follows `_links.next` from `firstTarget`; on a 504 the current page is asked again with a smaller `limit`
   * (a divisor of the current one, so the page number maps exactly). Items already yielded are skipped.
   */
  async *#paginate<P, T>(
    firstTarget: string,
    defaultLimit: number,
    parse: (body: unknown) => P & { _links?: { next?: { href: string } | null } | null },
    items: (page: P) => T[],
    keyOf: (item: T) => number | string,
    shrinkable = true,
  ): AsyncGenerator<T[], void, undefined> {
    const seen = new Set<number | string>();
    const visited = new Set<string>();
    let target: string | null = firstTarget;
    let shrinks = 0;
    while (target) {
      const { page, limit } = pagingOf(target, defaultLimit);
      const smaller = shrinkable && shrinks < MAX_SHRINKS ? shrinkPageSize(limit) : null;
      let res: ApiResponse;
      try {
        res = await this.request({
          method: "GET",
          href: target,
          idempotent: true,
          throwOn504: smaller !== null,
        });
      } catch (error) {
        if (error instanceof AmoCrmGatewayTimeoutError && smaller !== null) {
          shrinks++;
          this.#ctx.deps.log({
            level: "warn",
            msg: "amocrm.page_shrunk",
            connection_id: this.connectionId,
            from: limit,
            to: smaller,
          });
          target = withPaging(target, smaller, equivalentPage(page, limit, smaller));
          continue;
        }
        throw error;
      }
      if (res.body === null) return; // 204: past the last page / nothing matches
      const parsed = parse(res.body);
      const fresh = items(parsed).filter((item) => {
        const key = keyOf(item);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      if (fresh.length > 0) yield fresh;
      visited.add(target);
      target = parsed._links?.next?.href ?? null;
      // A next link we already followed would loop forever.
      if (target !== null && visited.has(target)) return;
    }
  }
}

export function createAmoCrmClient(config: AmoCrmClientConfig): AmoCrmClient {
  return new AmoCrmClient(config);
}

function parseWith<S extends z.ZodType>(schema: S, body: unknown, endpoint: string): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AmoCrmInvalidResponseError({
      endpoint,
      detail: `unexpected response shape at ${issue?.path.join(".") || "(root)"}: ${
        issue?.message ?? "invalid"
      }`,
      cause: parsed.error,
    });
  }
  return parsed.data;
}

function clampLimit(limit: number | undefined, max: number): number {
  if (limit === undefined) return max;
  return Math.max(1, Math.min(max, Math.floor(limit)));
}

function positiveInt(id: number): number {
  if (!Number.isSafeInteger(id) || id <= 0) {
    throw new TypeError(`amoCRM id must be a positive integer: ${id}`);
  }
  return id;
}
