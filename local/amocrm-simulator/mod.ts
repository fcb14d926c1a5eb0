/**
 * amoCRM (Kommo) simulator for tests, benchmarks and the local demo.
 *
 *   const sim = await startSimulator({ seed: 7, timeScale: 1e5 });
 *   sim.createAccount({ subdomain: "acme", clientId, clientSecret, redirectUri });
 *   const base = sim.accountBaseUrl("acme"); // → amocrm.connections.api_base_url
 *   …
 *   await sim.stop();
 */
export { Simulator, startSimulator } from "./simulator.ts";
export type { AccountSummary, MintTokensOptions, SimulatorOptions } from "./simulator.ts";
export type { CreateAccountInput } from "./account.ts";
export type { AccountModes, StatusDelivery, WebhookLayout } from "./account_modes.ts";
export { WEBHOOK_LAYOUTS } from "./account_modes.ts";
export type { AccountOps, ContactJson, LeadJson, LeadOperation } from "./account_ops.ts";
export type { AccountStatsSnapshot, DeliveryRecord, RequestRecord } from "./account_stats.ts";
export type {
  CreateContactInput,
  CreateLeadInput,
  UpdateContactInput,
  UpdateLeadInput,
} from "./crm_store.ts";
export type { FaultKnobs, FaultRule } from "./faults.ts";
export type { TokenResponse } from "./oauth.ts";
export type { PipelineSpec } from "./types.ts";
export { DEFAULT_PIPELINES, LOST_STATUS_ID, WON_STATUS_ID } from "./pipelines.ts";
export type { PlannedOp, PlannedStep, ScenarioOptions, ScenarioPlan } from "./scenario_plan.ts";
export type { AppliedStep, ProductLead, ScenarioRun } from "./scenario_run.ts";
export type { TruthLead } from "./truth.ts";
export { encodeForm, phpUrlencode } from "./webhook_form.ts";
export { WEBHOOK_USER_AGENT } from "./webhook_dispatcher.ts";
