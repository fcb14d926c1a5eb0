// A small client for the amoCRM simulator's control API (/_sim), which the demo uses to play a scenario in
// the simulator process the stack started.
import type { ProductLead } from "../amocrm-simulator/mod.ts";

export class SimControl {
  constructor(readonly url: string) {}

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}/_sim${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`simulator ${method} ${path} → ${response.status}: ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  accountBaseUrl(subdomain: string): string {
    return `${this.url}/${subdomain}`;
  }

  async hasAccount(subdomain: string): Promise<boolean> {
    const { accounts } = await this.#call<{ accounts: { subdomain: string }[] }>("GET", "/accounts");
    return accounts.some((a) => a.subdomain === subdomain);
  }

  createAccount(
    account: {
      subdomain: string;
      accountId: number;
      clientId: string;
      clientSecret: string;
      redirectUri: string;
      accessTokenTtlSeconds?: number;
      /** Behaviour switches (local/amocrm-simulator/account_modes.ts). */
      modes?: Record<string, unknown>;
    },
  ) {
    return this.#call("POST", "/accounts", account);
  }

  async authorizationCode(subdomain: string, clientId: string): Promise<string> {
    return (await this.#call<{ code: string }>("POST", `/accounts/${subdomain}/authorization-codes`, {
      clientId,
    })).code;
  }

  faults(subdomain: string, knobs: Record<string, unknown>) {
    return this.#call("PUT", `/accounts/${subdomain}/faults`, knobs);
  }

  startScenario(subdomain: string, options: Record<string, unknown>) {
    return this.#call<{ product: ProductLead[]; steps_total: number; started_at_ms: number }>(
      "POST",
      `/accounts/${subdomain}/scenario`,
      options,
    );
  }

  step(subdomain: string) {
    return this.#call<
      { step: { index: number; at: number; ops: { op: string }[] } | null; remaining: number }
    >(
      "POST",
      `/accounts/${subdomain}/scenario/step`,
      {},
    );
  }

  flushWebhooks() {
    return this.#call("POST", "/webhooks/flush", { fastForward: true });
  }

  stats(subdomain: string) {
    return this.#call<{ webhookDeliveries: unknown[]; webhooksDropped: number; totalRequests: number }>(
      "GET",
      `/accounts/${subdomain}/stats`,
    );
  }
}
