// Per-account switches for behaviour where amoCRM's documentation and the captured bodies allow more than one
// reading. Defaults follow the docs; every undocumented point offers each plausible variant. See README.md.
import { SimError } from "./errors.ts";

/** How a stage move's `status` and `update` changes travel (undocumented). */
export type StatusDelivery =
  /** One POST carries both (what most captures of a UI move show). */
  | "together"
  /** Each its own POST, `status` first: drop/duplicate/reorder faults act on each alone. */
  | "split"
  /** A seeded coin per change set picks one of the two. */
  | "mixed";

/** Webhook body layouts seen in captured bodies, by era. */
export type WebhookLayout =
  /** 2022–2025 captures: `account[subdomain]`, `account[id]`, `account[_links][self]` first. */
  | "modern"
  /** A 2022 capture: the same account block, but last. */
  | "account_last"
  /** 2016–2018 captures: only `account[subdomain]`, last; entities without created_at/updated_at. */
  | "legacy";

export const WEBHOOK_LAYOUTS: readonly WebhookLayout[] = ["modern", "account_last", "legacy"];

export interface AccountModes {
  /**
   * `with=only_deleted` lead model. "docs": only id, updated_at, updated_by, is_deleted=true (amoCRM's leads
   * API page); "full": every field (what the simulator did before; kept for comparison).
   */
  trashShape: "docs" | "full";
  statusDelivery: StatusDelivery;
  /** Lists keep `_links.next` on their last page; following it gives 204 (reported for some endpoints). */
  nextOnLastPage: boolean;
  webhookLayout: WebhookLayout;
  /** Kommo account: `account[_links][self]` is `https://<sub>.amocrm.com` instead of `.amocrm.ru`. */
  kommo: boolean;
  /** Key of a PHONE value's enum code on REST reads: the contacts page's read example says `enum`, others `enum_code`. */
  phoneEnumKey: "enum" | "enum_code";
  /** Contact webhook entities carry `group_id` (seen in real bodies by era, in none of our captures). */
  contactGroupId: boolean;
}

export const DEFAULT_MODES: AccountModes = {
  trashShape: "docs",
  statusDelivery: "together",
  nextOnLastPage: false,
  webhookLayout: "modern",
  kommo: false,
  phoneEnumKey: "enum",
  contactGroupId: false,
};

const CHOICES: { [K in keyof AccountModes]: readonly AccountModes[K][] } = {
  trashShape: ["docs", "full"],
  statusDelivery: ["together", "split", "mixed"],
  nextOnLastPage: [false, true],
  webhookLayout: WEBHOOK_LAYOUTS,
  kommo: [false, true],
  phoneEnumKey: ["enum", "enum_code"],
  contactGroupId: [false, true],
};

/** Validates a partial update (from code or the control API) and returns the merged modes. */
export function mergeModes(current: AccountModes, update: Partial<AccountModes> = {}): AccountModes {
  const merged = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === undefined) continue;
    const choices = CHOICES[key as keyof AccountModes] as readonly unknown[] | undefined;
    if (!choices) throw new SimError(400, `unknown mode ${key}`);
    if (!choices.includes(value)) {
      throw new SimError(400, `mode ${key} must be one of ${choices.map(String).join(", ")}`);
    }
    (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}
