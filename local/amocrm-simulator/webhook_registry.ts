import { SimError } from "./errors.ts";
import type { IdSequences } from "./ids.ts";
import type { Webhook } from "./types.ts";

const ENTITIES = ["lead", "contact", "company", "customer", "task"];
const ACTIONS = ["add", "update", "delete", "restore", "status", "responsible", "note"];
export const KNOWN_SETTINGS = new Set([
  ...ENTITIES.flatMap((entity) => ACTIONS.map((action) => `${action}_${entity}`)),
  "add_talk",
  "update_talk",
  "add_chat_template_review",
  "update_chat_template_review",
]);

export const MAX_WEBHOOKS = 100;
/** Auto-disable: more than 100 invalid answers within 2 hours, the latest one invalid. */
export const DISABLE_AFTER_INVALID = 100;
export const DISABLE_WINDOW_MS = 2 * 3600 * 1000;

export interface WebhookInput {
  destination?: unknown;
  settings?: unknown;
  sort?: unknown;
}

/** An account's webhook subscriptions: upsert by destination, delete by destination, auto-disable. */
export class WebhookRegistry {
  readonly #byDestination = new Map<string, Webhook>();

  constructor(
    private readonly ids: IdSequences,
    private readonly nowSeconds: () => number,
    private readonly adminUserId: number,
  ) {}

  list(destination?: string): Webhook[] {
    return [...this.#byDestination.values()]
      .filter((webhook) => destination === undefined || webhook.destination === destination)
      .sort((a, b) => a.sort - b.sort || a.id - b.id);
  }

  active(): Webhook[] {
    return this.list().filter((webhook) => !webhook.disabled);
  }

  byId(id: number): Webhook | undefined {
    return [...this.#byDestination.values()].find((webhook) => webhook.id === id);
  }

  /** Same destination → settings replaced and the webhook switched back on (how integrations repair it). */
  upsert(input: WebhookInput): Webhook {
    const errors = validate(input);
    if (errors.length > 0) throw new ValidationError(errors);
    const destination = input.destination as string;
    const settings = [...new Set(input.settings as string[])];
    const sort = typeof input.sort === "number" ? input.sort : 10;
    const now = this.nowSeconds();
    const existing = this.#byDestination.get(destination);
    if (existing) {
      Object.assign(existing, { settings, sort, disabled: false, updated_at: now, invalidAnswers: [] });
      return existing;
    }
    if (this.#byDestination.size >= MAX_WEBHOOKS) {
      throw new ValidationError([{
        path: "destination",
        detail: `An account can have at most ${MAX_WEBHOOKS} webhooks`,
      }]);
    }
    const webhook: Webhook = {
      id: this.ids.take("webhook"),
      destination,
      settings,
      sort,
      disabled: false,
      created_at: now,
      updated_at: now,
      created_by: this.adminUserId,
      invalidAnswers: [],
    };
    this.#byDestination.set(destination, webhook);
    return webhook;
  }

  remove(destination: string): boolean {
    return this.#byDestination.delete(destination);
  }

  /** Records a delivery answer; returns true when this answer switched the webhook off. */
  recordAnswer(webhook: Webhook, ok: boolean, nowMs: number): boolean {
    if (ok) return false;
    webhook.invalidAnswers = webhook.invalidAnswers.filter((at) => at > nowMs - DISABLE_WINDOW_MS);
    webhook.invalidAnswers.push(nowMs);
    if (!webhook.disabled && webhook.invalidAnswers.length > DISABLE_AFTER_INVALID) {
      webhook.disabled = true;
      webhook.updated_at = Math.floor(nowMs / 1000);
      return true;
    }
    return false;
  }
}

export interface ValidationIssue {
  path: string;
  detail: string;
}

/** Rendered as a 400 problem with `validation-errors`. */
export class ValidationError extends SimError {
  constructor(readonly issues: ValidationIssue[]) {
    super(400, "Request validation failed");
  }
}

function validate(input: WebhookInput): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (typeof input.destination !== "string" || !/^https?:\/\/\S+$/.test(input.destination)) {
    issues.push({ path: "destination", detail: "This value is not a valid URL." });
  }
  if (!Array.isArray(input.settings) || input.settings.length === 0) {
    issues.push({ path: "settings", detail: "This value should not be blank." });
  } else {
    for (const setting of input.settings) {
      if (typeof setting !== "string" || !KNOWN_SETTINGS.has(setting)) {
        issues.push({ path: "settings", detail: `Unknown setting: ${String(setting)}` });
      }
    }
  }
  if (input.sort !== undefined && typeof input.sort !== "number") {
    issues.push({ path: "sort", detail: "This value should be of type int." });
  }
  return issues;
}
