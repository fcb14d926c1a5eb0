import type { Account } from "./account.ts";
import type {
  CreateContactInput,
  CreateLeadInput,
  UpdateContactInput,
  UpdateLeadInput,
} from "./crm_store.ts";
import { SimError } from "./errors.ts";
import { LOST_STATUS_ID, WON_STATUS_ID } from "./pipelines.ts";
import { contactJson, leadJson } from "./rest_views.ts";

export type LeadJson = ReturnType<typeof leadJson>;
export type ContactJson = ReturnType<typeof contactJson>;

/** Every control operation as data: what `/_sim/accounts/:sub/ops` and `/batch` accept. */
export type LeadOperation =
  | ({ op: "createContact" } & CreateContactInput)
  | ({ op: "updateContact"; id: number } & UpdateContactInput)
  | ({ op: "createLead" } & CreateLeadInput)
  | ({ op: "updateLead"; id: number } & UpdateLeadInput)
  | { op: "moveLead"; id: number; statusId: number; pipelineId?: number; price?: number; by?: number }
  | { op: "winLead"; id: number; price?: number; by?: number }
  | { op: "loseLead"; id: number; lossReasonId?: number; by?: number }
  | { op: "setPrice"; id: number; price: number; by?: number }
  | { op: "setResponsible"; id: number; userId: number; by?: number }
  | { op: "deleteLead"; id: number; by?: number }
  | { op: "restoreLead"; id: number; by?: number }
  | { op: "mergeLeads"; survivorId: number; absorbedId: number; by?: number };

/** Manager-side actions on one account, as a person in the amoCRM UI would do them. Returns REST shapes. */
export class AccountOps {
  constructor(readonly account: Account) {}

  createContact(input: CreateContactInput = {}): ContactJson {
    return contactJson(this.account, this.account.store.createContact(input), true);
  }

  updateContact(id: number, input: UpdateContactInput): ContactJson {
    return contactJson(this.account, this.account.store.updateContact(id, input), true);
  }

  createLead(input: CreateLeadInput = {}): LeadJson {
    return this.#lead(this.account.store.createLead(input).id);
  }

  updateLead(id: number, input: UpdateLeadInput): LeadJson {
    this.account.store.updateLead(id, input);
    return this.#lead(id);
  }

  moveLead(
    id: number,
    statusId: number,
    opts: { pipelineId?: number; price?: number; by?: number } = {},
  ): LeadJson {
    this.account.store.moveLead(id, { statusId, ...opts });
    return this.#lead(id);
  }

  winLead(id: number, opts: { price?: number; by?: number } = {}): LeadJson {
    this.account.store.moveLead(id, { statusId: WON_STATUS_ID, ...opts });
    return this.#lead(id);
  }

  loseLead(id: number, opts: { lossReasonId?: number; by?: number } = {}): LeadJson {
    this.account.store.moveLead(id, {
      statusId: LOST_STATUS_ID,
      lossReasonId: opts.lossReasonId ?? this.account.lossReasonIds[0],
      by: opts.by,
    });
    return this.#lead(id);
  }

  setPrice(id: number, price: number, by?: number): LeadJson {
    return this.updateLead(id, { price, by });
  }

  setResponsible(id: number, userId: number, by?: number): LeadJson {
    return this.updateLead(id, { responsibleUserId: userId, by });
  }

  deleteLead(id: number, by?: number): LeadJson {
    this.account.store.deleteLead(id, by);
    return this.#lead(id);
  }

  restoreLead(id: number, by?: number): LeadJson {
    this.account.store.restoreLead(id, by);
    return this.#lead(id);
  }

  /** Duplicate control merged `absorbedId` into `survivorId` (see CrmStore.mergeLeads). */
  mergeLeads(survivorId: number, absorbedId: number, by?: number): LeadJson {
    this.account.store.mergeLeads(survivorId, absorbedId, by);
    return this.#lead(survivorId);
  }

  /** Lead as the API would show it, but also when it is in the trash. */
  getLead(id: number): LeadJson | null {
    return this.account.store.leads.has(id) ? this.#lead(id) : null;
  }

  apply(operation: LeadOperation): LeadJson | ContactJson {
    switch (operation.op) {
      case "createContact":
        return this.createContact(operation);
      case "updateContact":
        return this.updateContact(operation.id, operation);
      case "createLead":
        return this.createLead(operation);
      case "updateLead":
        return this.updateLead(operation.id, operation);
      case "moveLead":
        return this.moveLead(operation.id, operation.statusId, operation);
      case "winLead":
        return this.winLead(operation.id, operation);
      case "loseLead":
        return this.loseLead(operation.id, operation);
      case "setPrice":
        return this.setPrice(operation.id, operation.price, operation.by);
      case "setResponsible":
        return this.setResponsible(operation.id, operation.userId, operation.by);
      case "deleteLead":
        return this.deleteLead(operation.id, operation.by);
      case "restoreLead":
        return this.restoreLead(operation.id, operation.by);
      case "mergeLeads":
        return this.mergeLeads(operation.survivorId, operation.absorbedId, operation.by);
      default:
        throw new SimError(400, `unknown op ${(operation as { op?: unknown }).op}`);
    }
  }

  #lead(id: number): LeadJson {
    return leadJson(this.account, this.account.store.lead(id), true);
  }
}
