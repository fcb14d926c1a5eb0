import { type AccountModes, DEFAULT_MODES, mergeModes } from "./account_modes.ts";
import { AccountStats } from "./account_stats.ts";
import type { SimClock } from "./clock.ts";
import { CrmStore } from "./crm_store.ts";
import { FaultInjector } from "./faults.ts";
import type { IdSequences } from "./ids.ts";
import type { Integration } from "./oauth.ts";
import { buildPipelines, DEFAULT_PIPELINES } from "./pipelines.ts";
import { createRandom, hashString, type Random } from "./random.ts";
import type { ChangeRecord, Pipeline, PipelineSpec } from "./types.ts";
import type { WebhookDispatcher } from "./webhook_dispatcher.ts";
import { encodeForm } from "./webhook_form.ts";
import { accountSelfUrl, buildWebhookBody, settingFor } from "./webhook_payload.ts";
import { WebhookRegistry } from "./webhook_registry.ts";

export interface CreateAccountInput {
  subdomain: string;
  accountId?: number;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  pipelines?: PipelineSpec[];
  /** Lifetime of access tokens from the token endpoint (default 86400). */
  accessTokenTtlSeconds?: number;
  /** Behaviour switches where amoCRM allows several readings (account_modes.ts); defaults follow the docs. */
  modes?: Partial<AccountModes>;
  /** The account's currency (ISO 4217, default RUB) and its symbol (default: the usual one, or the code). */
  currency?: string;
  currencySymbol?: string;
  /** The account's time zone (IANA name, default Europe/Moscow). */
  timezone?: string;
}

const CURRENCY_SYMBOLS: Record<string, string> = { RUB: "₽", KZT: "₸", USD: "$", EUR: "€", UZS: "сўм" };

export interface AccountDeps {
  ids: IdSequences;
  clock: SimClock;
  seed: number;
  baseUrl: string;
  dispatcher: WebhookDispatcher;
  violationWindowMs: number;
}

/** One fake amoCRM account: its CRM data, integrations, webhooks, faults and stats. */
export class Account {
  readonly subdomain: string;
  readonly id: number;
  readonly baseUrl: string;
  readonly pipelines: Pipeline[];
  /** Manager user ids; the first one is the admin who installed the integrations. */
  readonly users: number[];
  readonly lossReasonIds: number[];
  readonly phoneField: { id: number; enumId: number };
  /** A date custom field ("Дата заявки") scenario leads fill: webhooks send it bare, without [value]. */
  readonly dateFieldId: number;
  readonly integrations = new Map<string, Integration>();
  readonly accessTokenTtlSeconds: number;
  readonly store: CrmStore;
  readonly webhooks: WebhookRegistry;
  readonly stats: AccountStats;
  readonly faults: FaultInjector;
  /** Seeded per account: 429 body flavour and other coin flips. */
  readonly random: Random;
  /** Seeded per account: whether a "mixed" change set travels split or together. */
  readonly #deliveryRandom: Random;
  unpaid = false;
  modes: AccountModes;
  /** Account settings an admin can change in amoCRM (GET /api/v4/account reads them). */
  currency: string;
  currencySymbol: string;
  timezone: string;
  /** While true, changes produce no webhooks (e.g. a scenario applied silently for backfill tests). */
  silent = false;
  #batchDepth = 0;
  #batched: ChangeRecord[] = [];

  constructor(input: CreateAccountInput, private readonly deps: AccountDeps) {
    this.subdomain = input.subdomain;
    this.id = input.accountId ?? deps.ids.take("account");
    this.baseUrl = deps.baseUrl;
    this.pipelines = buildPipelines(input.pipelines ?? DEFAULT_PIPELINES, deps.ids);
    this.users = Array.from({ length: 5 }, () => deps.ids.take("user"));
    this.lossReasonIds = Array.from({ length: 3 }, () => deps.ids.take("lossReason"));
    this.phoneField = { id: deps.ids.take("field"), enumId: deps.ids.take("enum") };
    this.dateFieldId = deps.ids.take("field");
    this.accessTokenTtlSeconds = input.accessTokenTtlSeconds ?? 86_400;
    this.modes = mergeModes(DEFAULT_MODES, input.modes);
    this.currency = input.currency ?? "RUB";
    this.currencySymbol = input.currencySymbol ?? CURRENCY_SYMBOLS[this.currency] ?? this.currency;
    this.timezone = input.timezone ?? "Europe/Moscow";
    this.integrations.set(input.clientId, {
      clientId: input.clientId,
      clientSecret: input.clientSecret,
      redirectUri: input.redirectUri,
    });
    const seed = (deps.seed ^ hashString(input.subdomain)) >>> 0;
    this.random = createRandom(seed);
    this.faults = new FaultInjector(createRandom(seed ^ 0x5eed));
    this.#deliveryRandom = createRandom(seed ^ 0xde11);
    this.stats = new AccountStats(input.subdomain, deps.violationWindowMs);
    this.webhooks = new WebhookRegistry(deps.ids, () => deps.clock.nowSeconds(), this.users[0]);
    this.store = new CrmStore({
      accountId: this.id,
      pipelines: this.pipelines,
      defaultUserId: this.users[0],
      phoneField: this.phoneField,
      nowSeconds: () => deps.clock.nowSeconds(),
      ids: deps.ids,
      emit: (changes) => this.#emit(changes),
    });
  }

  get defaultClientId(): string {
    return this.integrations.keys().next().value!;
  }

  /** Runs `fn`; all changes it makes leave as one webhook POST per subscriber (a bulk edit). */
  batch<T>(fn: () => T): T {
    this.#batchDepth++;
    try {
      return fn();
    } finally {
      this.#endBatch();
    }
  }

  async batchAsync<T>(fn: () => Promise<T>): Promise<T> {
    this.#batchDepth++;
    try {
      return await fn();
    } finally {
      this.#endBatch();
    }
  }

  #endBatch(): void {
    if (--this.#batchDepth > 0 || this.#batched.length === 0) return;
    const changes = this.#batched;
    this.#batched = [];
    this.#publish(changes);
  }

  #emit(changes: ChangeRecord[]): void {
    if (this.silent) return;
    if (this.#batchDepth > 0) this.#batched.push(...changes);
    else this.#publish(changes);
  }

  /**
   * How one change set travels: one POST, or (statusDelivery split/mixed) the `status` changes in one POST and
   * everything else in the next. amoCRM does not document whether a stage move's status and update hooks
   * share a request; "the status hook was lost while the update arrived" is a reported failure, so both exist.
   */
  #deliveries(changes: ChangeRecord[]): ChangeRecord[][] {
    const mode = this.modes.statusDelivery;
    const split = mode === "split" || (mode === "mixed" && this.#deliveryRandom.chance(0.5));
    if (!split) return [changes];
    const status = changes.filter((change) => change.action === "status");
    const rest = changes.filter((change) => change.action !== "status");
    return [status, rest].filter((part) => part.length > 0);
  }

  /**
   * One POST per delivery per subscribed, enabled webhook with the changes it asked for; faults decide
   * drop/dup/delay/reorder for each POST on its own.
   */
  #publish(changes: ChangeRecord[]): void {
    const now = this.deps.clock.nowMs();
    const account = {
      subdomain: this.subdomain,
      id: this.id,
      selfUrl: accountSelfUrl(this.subdomain, this.modes.kommo),
    };
    const deliveries = this.#deliveries(changes);
    for (const webhook of this.webhooks.active()) {
      for (const delivery of deliveries) {
        const wanted = delivery.filter((change) => webhook.settings.includes(settingFor(change)));
        if (wanted.length === 0) continue;
        if (this.faults.roll("webhookDrop")) {
          this.stats.webhooksDropped++;
          continue;
        }
        const body = encodeForm(
          buildWebhookBody(account, wanted, this.modes.webhookLayout, {
            contactGroupId: this.modes.contactGroupId,
          }),
        );
        const delay = this.faults.roll("webhookDelay");
        const job = {
          subdomain: this.subdomain,
          webhookId: webhook.id,
          destination: webhook.destination,
          body,
          attempt: 0,
          dueAt: now + (delay ? (delay.delaySeconds ?? 60) * 1000 : 0),
          holdForReorder: this.faults.roll("webhookReorder") !== null,
        };
        this.deps.dispatcher.enqueue(job);
        if (this.faults.roll("webhookDuplicate")) {
          this.deps.dispatcher.enqueue({ ...job, holdForReorder: false });
        }
      }
    }
  }
}
