import { Account, type CreateAccountInput } from "./account.ts";
import { type AccountModes, mergeModes } from "./account_modes.ts";
import { type GatewayDeps, handleAccountRequest } from "./account_gateway.ts";
import type { AccountStatsSnapshot } from "./account_stats.ts";
import { AccountOps, type ContactJson, type LeadJson, type LeadOperation } from "./account_ops.ts";
import { SimClock } from "./clock.ts";
import type {
  CreateContactInput,
  CreateLeadInput,
  UpdateContactInput,
  UpdateLeadInput,
} from "./crm_store.ts";
import { SimError } from "./errors.ts";
import type { FaultKnobs } from "./faults.ts";
import { IdSequences } from "./ids.ts";
import { type TokenResponse, TokenService } from "./oauth.ts";
import { createRandom } from "./random.ts";
import { RateLimiter } from "./rate_limiter.ts";
import { problem } from "./responses.ts";
import { pipelineJson, webhookJson } from "./rest_views.ts";
import { handleControl } from "./routes/control.ts";
import { resolveScenarioOptions, type ScenarioOptions } from "./scenario_plan.ts";
import { ScenarioRun } from "./scenario_run.ts";
import { accountTruth, type TruthLead } from "./truth.ts";
import { WebhookDispatcher } from "./webhook_dispatcher.ts";

export interface SimulatorOptions {
  /** 0 (default) = an ephemeral port. Always bound to 127.0.0.1. */
  port?: number;
  /** Seeds tokens, fault coin flips, 429 body flavours and scenarios (default 1). */
  seed?: number;
  /** Sim-time waits (webhook retries, delayed webhooks) take wait/timeScale real time (default 1). */
  timeScale?: number;
  /** Requests per second per integration before 429 (default 7). */
  rateLimitPerSecond?: number;
  /** Requests per second per account, all integrations (default 50). */
  accountRateLimitPerSecond?: number;
  /** Time source in ms (default Date.now); the sim clock adds its own advances on top. */
  now?: () => number;
  /**
   * Sim time to start at, in ms (default: now). amoCRM's clock is real time: a webhook can arrive late, never
   * stamped ahead of its delivery, and the intake quarantines events stamped more than a day ahead. A scenario
   * that compresses days into seconds must therefore start that many days in the past.
   */
  clockStartMs?: number;
  /** Real ms a webhook receiver has to answer (default 2000, amoCRM's 2-second rule). */
  webhookTimeoutMs?: number;
  /** More 429s than this within `blockWindowSeconds` block the account (default 20). */
  blockAfter429s?: number;
  /** Default 60. */
  blockWindowSeconds?: number;
}

export interface AccountSummary {
  subdomain: string;
  accountId: number;
  baseUrl: string;
  clientIds: string[];
  userIds: number[];
  lossReasonIds: number[];
  phoneFieldId: number;
  blocked: boolean;
  unpaid: boolean;
  pipelines: Record<string, unknown>[];
  webhooks: Record<string, unknown>[];
  modes: AccountModes;
}

export interface MintTokensOptions {
  clientId?: string;
  expiresInSeconds?: number;
  /** A long-lived token: no refresh token (default lifetime 5 years). */
  longLived?: boolean;
}

/** A running amoCRM simulator: many accounts on one server, addressed by path prefix `${url}/${subdomain}`. */
export class Simulator {
  readonly url: string;
  readonly port: number;
  readonly seed: number;
  readonly timeScale: number;
  readonly #accounts = new Map<string, Account>();
  readonly #scenarios = new Map<string, ScenarioRun>();
  readonly #ids = new IdSequences();
  readonly #clock: SimClock;
  readonly #tokens: TokenService;
  readonly #dispatcher: WebhookDispatcher;
  readonly #gateway: GatewayDeps;
  readonly #stopping = new AbortController();
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #violationWindowMs: number;
  #stopped: Promise<void> | null = null;

  constructor(opts: SimulatorOptions = {}) {
    this.seed = opts.seed ?? 1;
    this.timeScale = opts.timeScale && opts.timeScale > 0 ? opts.timeScale : 1;
    this.#violationWindowMs = (opts.blockWindowSeconds ?? 60) * 1000;
    this.#clock = new SimClock(opts.now ?? Date.now, opts.clockStartMs);
    this.#tokens = new TokenService(createRandom(this.seed), () => this.#clock.nowMs());
    this.#dispatcher = new WebhookDispatcher({
      clock: this.#clock,
      timeScale: this.timeScale,
      timeoutMs: opts.webhookTimeoutMs ?? 2000,
      findWebhook: (subdomain, webhookId) => {
        const account = this.#accounts.get(subdomain);
        const webhook = account?.webhooks.byId(webhookId);
        return account && webhook ? { webhook, registry: account.webhooks } : undefined;
      },
      onAttempt: (subdomain, record) => this.#accounts.get(subdomain)?.stats.delivery(record),
    });
    this.#gateway = {
      clock: this.#clock,
      tokens: this.#tokens,
      limiter: new RateLimiter({
        perIntegration: opts.rateLimitPerSecond ?? 7,
        perAccount: opts.accountRateLimitPerSecond ?? 50,
      }),
      blockAfter429s: opts.blockAfter429s ?? 20,
      stopping: this.#stopping.signal,
    };
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: opts.port ?? 0, onListen: () => {} },
      (request) => this.#handle(request),
    );
    this.port = this.#server.addr.port;
    this.url = `http://127.0.0.1:${this.port}`;
  }

  /** What `amocrm.connections.api_base_url` stores for this account. */
  accountBaseUrl(subdomain: string): string {
    return `${this.url}/${subdomain}`;
  }

  createAccount(input: CreateAccountInput): AccountSummary {
    if (!/^[a-z0-9][a-z0-9-]*$/i.test(input.subdomain ?? "") || input.subdomain.startsWith("_")) {
      throw new SimError(400, `invalid subdomain ${input.subdomain}`);
    }
    if (this.#accounts.has(input.subdomain)) throw new SimError(409, `account ${input.subdomain} exists`);
    for (const field of ["clientId", "clientSecret", "redirectUri"] as const) {
      if (typeof input[field] !== "string" || input[field] === "") {
        throw new SimError(400, `${field} is required`);
      }
    }
    const account = new Account(input, {
      ids: this.#ids,
      clock: this.#clock,
      seed: this.seed,
      baseUrl: this.accountBaseUrl(input.subdomain),
      dispatcher: this.#dispatcher,
      violationWindowMs: this.#violationWindowMs,
    });
    this.#accounts.set(input.subdomain, account);
    return this.accountSummary(input.subdomain);
  }

  /** A second integration (another client_id) installed in the same account. */
  addIntegration(
    subdomain: string,
    integration: { clientId: string; clientSecret: string; redirectUri: string },
  ): void {
    this.internalAccount(subdomain).integrations.set(integration.clientId, { ...integration });
  }

  accountSummary(subdomain: string): AccountSummary {
    const account = this.internalAccount(subdomain);
    return {
      subdomain: account.subdomain,
      accountId: account.id,
      baseUrl: account.baseUrl,
      clientIds: [...account.integrations.keys()],
      userIds: [...account.users],
      lossReasonIds: [...account.lossReasonIds],
      phoneFieldId: account.phoneField.id,
      blocked: account.stats.blocked,
      unpaid: account.unpaid,
      pipelines: account.pipelines.map((pipeline) => pipelineJson(account, pipeline)),
      webhooks: account.webhooks.list().map((webhook) => webhookJson(account, webhook)),
      modes: { ...account.modes },
    };
  }

  accounts(): string[] {
    return [...this.#accounts.keys()];
  }

  /** An authorization code as the consent redirect would carry it (valid 20 min sim time, single use). */
  issueAuthorizationCode(subdomain: string, clientId?: string): string {
    const account = this.internalAccount(subdomain);
    return this.#tokens.issueCode(subdomain, this.#integration(account, clientId));
  }

  /** Tokens without the OAuth dance; `longLived` gives an access token with no refresh token. */
  mintTokens(subdomain: string, opts: MintTokensOptions = {}): TokenResponse {
    const account = this.internalAccount(subdomain);
    return this.#tokens.mint(subdomain, this.#integration(account, opts.clientId), account.id, {
      expiresInSeconds: opts.expiresInSeconds ?? (opts.longLived ? 0 : account.accessTokenTtlSeconds),
      longLived: opts.longLived,
    });
  }

  /** The admin disconnected the integration(s): every token stops working (401). */
  revokeTokens(subdomain: string, clientId?: string): number {
    this.internalAccount(subdomain);
    return this.#tokens.revokeAll(subdomain, clientId);
  }

  /** Manager-side operations bound to one account (the same ones as the methods below). */
  ops(subdomain: string): AccountOps {
    return new AccountOps(this.internalAccount(subdomain));
  }

  createContact(subdomain: string, input: CreateContactInput = {}): ContactJson {
    return this.ops(subdomain).createContact(input);
  }
  updateContact(subdomain: string, id: number, input: UpdateContactInput): ContactJson {
    return this.ops(subdomain).updateContact(id, input);
  }
  createLead(subdomain: string, input: CreateLeadInput = {}): LeadJson {
    return this.ops(subdomain).createLead(input);
  }
  updateLead(subdomain: string, id: number, input: UpdateLeadInput): LeadJson {
    return this.ops(subdomain).updateLead(id, input);
  }
  moveLead(
    subdomain: string,
    id: number,
    statusId: number,
    opts: { pipelineId?: number; price?: number; by?: number } = {},
  ): LeadJson {
    return this.ops(subdomain).moveLead(id, statusId, opts);
  }
  winLead(subdomain: string, id: number, opts: { price?: number; by?: number } = {}): LeadJson {
    return this.ops(subdomain).winLead(id, opts);
  }
  loseLead(subdomain: string, id: number, opts: { lossReasonId?: number; by?: number } = {}): LeadJson {
    return this.ops(subdomain).loseLead(id, opts);
  }
  setPrice(subdomain: string, id: number, price: number, by?: number): LeadJson {
    return this.ops(subdomain).setPrice(id, price, by);
  }
  setResponsible(subdomain: string, id: number, userId: number, by?: number): LeadJson {
    return this.ops(subdomain).setResponsible(id, userId, by);
  }
  deleteLead(subdomain: string, id: number, by?: number): LeadJson {
    return this.ops(subdomain).deleteLead(id, by);
  }
  restoreLead(subdomain: string, id: number, by?: number): LeadJson {
    return this.ops(subdomain).restoreLead(id, by);
  }
  /** A lead incl. one in the trash (null if it never existed). */
  /** amoCRM's duplicate control merges `absorbedId` into `survivorId` (one of them must be in Unsorted). */
  mergeLeads(subdomain: string, survivorId: number, absorbedId: number, by?: number): LeadJson {
    return this.ops(subdomain).mergeLeads(survivorId, absorbedId, by);
  }
  getLead(subdomain: string, id: number): LeadJson | null {
    return this.ops(subdomain).getLead(id);
  }
  apply(subdomain: string, operation: LeadOperation): LeadJson | ContactJson {
    return this.ops(subdomain).apply(operation);
  }

  /** Everything `fn` changes leaves as ONE webhook POST per subscriber (a bulk edit in the UI). */
  batch<T>(subdomain: string, fn: (ops: AccountOps) => T | Promise<T>): Promise<T> {
    const account = this.internalAccount(subdomain);
    return account.batchAsync(async () => await fn(new AccountOps(account)));
  }

  stats(subdomain: string): AccountStatsSnapshot {
    return this.internalAccount(subdomain).stats.snapshot();
  }

  /** Replaces the account's fault knobs ({} clears them); without knobs returns the current ones. */
  faults(subdomain: string, knobs?: FaultKnobs): FaultKnobs {
    const faults = this.internalAccount(subdomain).faults;
    return knobs === undefined ? faults.get() : faults.set(knobs);
  }

  /** What amoCRM support does after a block: calls work again. */
  unblock(subdomain: string): void {
    this.internalAccount(subdomain).stats.unblock();
  }

  /** Changes some of the account's behaviour switches (account_modes.ts); returns all of them. */
  setModes(subdomain: string, update: Partial<AccountModes>): AccountModes {
    const account = this.internalAccount(subdomain);
    account.modes = mergeModes(account.modes, update);
    return { ...account.modes };
  }

  /** An unpaid account answers 402 to API calls. */
  setUnpaid(subdomain: string, unpaid: boolean): void {
    this.internalAccount(subdomain).unpaid = unpaid;
  }

  /**
   * Starts a seeded scenario: creates every product lead now (the product side is in `run.product`),
   * then `run.step()` / `run.play()` / `run.applyAll()` play the managers' actions.
   */
  scenario(subdomain: string, options: ScenarioOptions = {}, opts: { webhooks?: boolean } = {}): ScenarioRun {
    const account = this.internalAccount(subdomain);
    const run = new ScenarioRun(account, this.#clock, resolveScenarioOptions(options, this.seed), opts);
    this.#scenarios.set(subdomain, run);
    return run;
  }

  /** The latest scenario started on the account (for the HTTP control API). */
  currentScenario(subdomain: string): ScenarioRun {
    const run = this.#scenarios.get(subdomain);
    if (!run) throw new SimError(404, `no scenario on ${subdomain}`);
    return run;
  }

  /** The account's real state: every deal with its status history and main contact phone. */
  truth(subdomain: string): TruthLead[] {
    const run = this.#scenarios.get(subdomain);
    return run ? run.truth() : accountTruth(this.internalAccount(subdomain));
  }

  /** Sim time, ms. */
  now(): number {
    return this.#clock.nowMs();
  }

  advanceTime(seconds: number): void {
    this.#clock.advance(seconds * 1000);
  }

  /** Awaits every pending delivery incl. retries (accelerated by timeScale, or jumped to with fastForward). */
  flushWebhooks(opts: { fastForward?: boolean } = {}): Promise<void> {
    return this.#dispatcher.flush(opts);
  }

  pendingWebhooks(): number {
    return this.#dispatcher.pending();
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopping.abort();
      await this.#dispatcher.stop();
      await this.#server.shutdown();
    })();
    return this.#stopped;
  }

  /** @internal The account object behind a subdomain (server and control routes). */
  internalAccount(subdomain: string): Account {
    const account = this.#accounts.get(subdomain);
    if (!account) throw new SimError(404, `no account ${subdomain}`);
    return account;
  }

  #integration(account: Account, clientId: string | undefined): string {
    if (clientId === undefined) return account.defaultClientId;
    if (!account.integrations.has(clientId)) {
      throw new SimError(404, `no integration ${clientId} in ${account.subdomain}`);
    }
    return clientId;
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (url.pathname === "/_sim" || url.pathname.startsWith("/_sim/")) {
        return await handleControl(this, request, url);
      }
      const [, subdomain = "", ...rest] = url.pathname.split("/");
      const account = this.#accounts.get(subdomain);
      // amoCRM's API errors page (amocrm.com/developers/content/api/errors): code 101, HTTP 401, "a request to a
      // non-existent account (subdomain)" — not 404. The exact body is not shown there: problem JSON plus the code.
      if (!account) return problem(401, `Account ${subdomain} not found`, { error_code: 101 });
      return await handleAccountRequest(
        this.#gateway,
        account,
        request,
        `/${rest.join("/")}`,
        url.search.slice(1),
      );
    } catch (error) {
      if (error instanceof SimError) return problem(error.status, error.message);
      console.error("amocrm-simulator: unhandled error", error);
      return problem(500, error instanceof Error ? error.message : String(error));
    }
  }
}

/** Starts a simulator on 127.0.0.1 (port 0 = ephemeral). Stop it with `await sim.stop()`. */
export function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  try {
    return Promise.resolve(new Simulator(opts));
  } catch (error) {
    return Promise.reject(error);
  }
}
