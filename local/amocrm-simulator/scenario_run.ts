import type { Account } from "./account.ts";
import type { SimClock } from "./clock.ts";
import { LOST_STATUS_ID, WON_STATUS_ID, workStages } from "./pipelines.ts";
import {
  CREATION_BATCH_SIZE,
  type PlannedOp,
  planScenario,
  type ResolvedScenarioOptions,
  type ScenarioContext,
  type ScenarioPlan,
} from "./scenario_plan.ts";
import { accountTruth, type TruthLead } from "./truth.ts";

/** The product side of a scenario: what a test inserts into our `leads` table. */
export interface ProductLead {
  ref: number;
  creative_index: number;
  direction_index: number;
  /** Website lead phone as the product stored it ("+7 912 345-67-89"), or null. */
  phone: string | null;
  /** WhatsApp chat id ("79123456789@s.whatsapp.net"), or null. */
  chat_id: string | null;
  amocrm_lead_id: number;
  amocrm_contact_id: number;
  /** Unix seconds. */
  created_at: number;
}

export interface AppliedStep {
  index: number;
  /** Unix seconds (sim). */
  at: number;
  ops: (PlannedOp & { leadId: number })[];
}

export function scenarioContext(account: Account): ScenarioContext {
  return {
    pipelines: account.pipelines.map((pipeline) => ({
      id: pipeline.id,
      unsortedStatusId: pipeline.statuses.find((status) => status.type === 1)!.id,
      workStatusIds: workStages(pipeline).map((status) => status.id),
    })),
    userIds: account.users,
    lossReasonIds: account.lossReasonIds,
  };
}

/**
 * Plays a plan against an account. Construction creates every product lead at once (in bulk POSTs of 50,
 * 30 s of sim time apart) so the product side is known up front; steps then advance the sim clock and
 * apply manager actions, each step one webhook POST per subscriber.
 */
export class ScenarioRun {
  readonly plan: ScenarioPlan;
  readonly product: ProductLead[] = [];
  /** Sim ms when the scenario started. */
  readonly startedAtMs: number;
  readonly #leadIds = new Map<number, number>();
  readonly #productRefs = new Map<number, number>();
  #next = 0;

  constructor(
    private readonly account: Account,
    private readonly clock: SimClock,
    options: ResolvedScenarioOptions,
    opts: { webhooks?: boolean } = {},
  ) {
    this.plan = planScenario(options, scenarioContext(account));
    this.startedAtMs = clock.nowMs();
    this.#silently(opts.webhooks === false, () => this.#createProductLeads());
  }

  get total(): number {
    return this.plan.steps.length;
  }

  get remaining(): number {
    return this.plan.steps.length - this.#next;
  }

  /** amoCRM lead id of a scenario ref (product or manager deal), once created. */
  leadId(ref: number): number | undefined {
    return this.#leadIds.get(ref);
  }

  /** Applies the next step (advancing the sim clock to its time); null when the story is over. */
  step(opts: { webhooks?: boolean } = {}): AppliedStep | null {
    const index = this.#next;
    const planned = this.plan.steps[index];
    if (!planned) return null;
    this.#next++;
    this.clock.advanceTo(this.startedAtMs + planned.at * 1000);
    const ops = this.#silently(
      opts.webhooks === false,
      () => this.account.batch(() => planned.ops.map((op) => this.#apply(op))),
    );
    return { index, at: this.clock.nowSeconds(), ops };
  }

  /** Applies every remaining step; `afterStep` (e.g. flushing webhooks) runs between steps. */
  async play(
    opts: { webhooks?: boolean; afterStep?: (step: AppliedStep) => Promise<void> | void } = {},
  ): Promise<number> {
    let applied = 0;
    for (let step = this.step(opts); step; step = this.step(opts)) {
      applied++;
      await opts.afterStep?.(step);
    }
    return applied;
  }

  /** Applies everything at once (same end state, same timestamps); with webhooks: false nothing is sent. */
  applyAll(opts: { webhooks?: boolean } = {}): number {
    let applied = 0;
    while (this.step(opts)) applied++;
    return applied;
  }

  truth(): TruthLead[] {
    return accountTruth(this.account, this.#productRefs);
  }

  #createProductLeads(): void {
    const { products } = this.plan;
    for (let start = 0; start < products.length; start += CREATION_BATCH_SIZE) {
      const batch = products.slice(start, start + CREATION_BATCH_SIZE);
      this.clock.advanceTo(this.startedAtMs + batch[0].createdOffset * 1000);
      this.account.batch(() => {
        for (const planned of batch) {
          const lead = this.account.store.createLead({
            name: planned.name,
            pipelineId: planned.pipelineId,
            statusId: planned.statusId,
            phone: planned.amoPhone,
            contactName: planned.chatId
              ? `WhatsApp ${planned.phoneDigits}`
              : `Клиент ${planned.phoneDigits.slice(-4)}`,
            responsibleUserId: planned.responsibleUserId,
            by: planned.responsibleUserId,
            // What real product leads carry: a tag per creative and a date field (sent bare in webhooks).
            tags: [{ id: 700_001 + planned.creativeIndex, name: `креатив ${planned.creativeIndex + 1}` }],
            customFields: [{
              field_id: this.account.dateFieldId,
              field_name: "Дата заявки",
              field_code: null,
              field_type: "date",
              values: [{ value: String(this.clock.nowSeconds()) }],
            }],
          });
          this.#leadIds.set(planned.ref, lead.id);
          this.#productRefs.set(lead.id, planned.ref);
          this.product.push({
            ref: planned.ref,
            creative_index: planned.creativeIndex,
            direction_index: planned.directionIndex,
            phone: planned.productPhone,
            chat_id: planned.chatId,
            amocrm_lead_id: lead.id,
            amocrm_contact_id: lead.contacts[0].id,
            created_at: lead.created_at,
          });
        }
      });
    }
  }

  #apply(op: PlannedOp): PlannedOp & { leadId: number } {
    const store = this.account.store;
    if (op.kind === "createManagerDeal") {
      const deal = this.plan.managerDeals[op.ref - this.plan.options.leads];
      const lead = store.createLead({
        name: deal.name,
        pipelineId: deal.pipelineId,
        statusId: deal.statusId,
        ...(deal.phone === null ? {} : { phone: deal.phone }),
        responsibleUserId: deal.responsibleUserId,
        by: deal.responsibleUserId,
      });
      this.#leadIds.set(op.ref, lead.id);
      return { ...op, leadId: lead.id };
    }
    const leadId = this.#leadIds.get(op.ref)!;
    switch (op.kind) {
      case "move":
        store.moveLead(leadId, { statusId: op.statusId, pipelineId: op.pipelineId, by: op.by });
        break;
      case "win":
        store.moveLead(leadId, { statusId: WON_STATUS_ID, price: op.price, by: op.by });
        break;
      case "lose":
        store.moveLead(leadId, { statusId: LOST_STATUS_ID, lossReasonId: op.lossReasonId, by: op.by });
        break;
      case "price":
        store.updateLead(leadId, { price: op.price, by: op.by });
        break;
      case "responsible":
        store.updateLead(leadId, { responsibleUserId: op.userId, by: op.by });
        break;
      case "delete":
        store.deleteLead(leadId, op.by);
        break;
      case "restore":
        store.restoreLead(leadId, op.by);
        break;
    }
    return { ...op, leadId };
  }

  #silently<T>(silent: boolean, fn: () => T): T {
    const previous = this.account.silent;
    this.account.silent = previous || silent;
    try {
      return fn();
    } finally {
      this.account.silent = previous;
    }
  }
}
