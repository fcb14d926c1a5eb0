import { SimError } from "./errors.ts";
import type { IdSequences } from "./ids.ts";
import { isClosedStatus } from "./pipelines.ts";
import type { ChangeRecord, Contact, CrmEvent, CustomField, Lead, Pipeline } from "./types.ts";
import { contactWebhookEntity, deletedLeadWebhookEntity, leadWebhookEntity } from "./webhook_payload.ts";

/** What the store needs to know about its account. */
export interface CrmContext {
  accountId: number;
  pipelines: Pipeline[];
  defaultUserId: number;
  phoneField: { id: number; enumId: number };
  nowSeconds: () => number;
  ids: IdSequences;
  /** Receives the webhook-relevant changes of one operation. */
  emit: (changes: ChangeRecord[]) => void;
}

export interface CreateContactInput {
  name?: string;
  phones?: string[];
  responsibleUserId?: number;
  by?: number;
}

export interface CreateLeadInput {
  name?: string;
  price?: number;
  pipelineId?: number;
  statusId?: number;
  /** Link an existing contact as the main one … */
  contactId?: number;
  /** … or create a contact with this phone (exactly as typed). */
  phone?: string;
  contactName?: string;
  responsibleUserId?: number;
  by?: number;
  customFields?: CustomField[];
  tags?: { id: number; name: string }[];
}

export interface UpdateLeadInput {
  name?: string;
  price?: number;
  responsibleUserId?: number;
  by?: number;
}

export interface MoveLeadInput {
  statusId: number;
  pipelineId?: number;
  /** Set together with the move (e.g. the price of a won deal). */
  price?: number;
  lossReasonId?: number | null;
  by?: number;
}

export interface UpdateContactInput {
  name?: string;
  phones?: string[];
  by?: number;
}

const leadStatus = (lead: Lead) => [{ lead_status: { id: lead.status_id, pipeline_id: lead.pipeline_id } }];

/** Leads, contacts and the events log of one account. Every mutation emits its webhook changes. */
export class CrmStore {
  readonly leads = new Map<number, Lead>();
  readonly contacts = new Map<number, Contact>();
  readonly events: CrmEvent[] = [];

  constructor(private readonly ctx: CrmContext) {}

  createContact(input: CreateContactInput): Contact {
    const contact = this.#newContact(input, this.ctx.nowSeconds());
    this.ctx.emit([this.#contactChange("add", contact, input.by)]);
    return contact;
  }

  updateContact(id: number, input: UpdateContactInput): Contact {
    const contact = this.contact(id);
    if (input.name !== undefined) contact.name = input.name;
    if (input.phones !== undefined) contact.phones = [...input.phones];
    contact.updated_at = this.ctx.nowSeconds();
    contact.updated_by = input.by ?? this.ctx.defaultUserId;
    this.ctx.emit([this.#contactChange("update", contact, input.by)]);
    return contact;
  }

  createLead(input: CreateLeadInput): Lead {
    const now = this.ctx.nowSeconds();
    const by = input.by ?? this.ctx.defaultUserId;
    const pipeline = this.#pipeline(input.pipelineId);
    const statusId = input.statusId ?? pipeline.statuses.find((status) => status.type === 0)!.id;
    this.#status(pipeline, statusId);
    let contact: Contact | undefined;
    let contactIsNew = false;
    if (input.contactId !== undefined) contact = this.contact(input.contactId);
    else if (input.phone !== undefined) {
      contact = this.#newContact({ name: input.contactName, phones: [input.phone], by }, now);
      contactIsNew = true;
    }
    const id = this.ctx.ids.take("lead");
    const lead: Lead = {
      id,
      name: input.name ?? `Сделка #${id}`,
      price: input.price ?? 0,
      responsible_user_id: input.responsibleUserId ?? by,
      status_id: statusId,
      pipeline_id: pipeline.id,
      loss_reason_id: null,
      created_by: by,
      updated_by: by,
      created_at: now,
      updated_at: now,
      closed_at: isClosedStatus(statusId) ? now : null,
      is_deleted: false,
      custom_fields: input.customFields ?? [],
      contacts: contact ? [{ id: contact.id, is_main: true }] : [],
      tags: (input.tags ?? []).map((tag) => ({ ...tag })),
      account_id: this.ctx.accountId,
      history: [{
        at: now,
        from_status_id: null,
        from_pipeline_id: null,
        to_status_id: statusId,
        to_pipeline_id: pipeline.id,
      }],
    };
    this.leads.set(id, lead);
    if (contact) contact.lead_ids.push(id);
    // amoCRM's events page: lead_added carries value_after [{note: {id}}] — the stage is not in the event.
    this.#event("lead_added", lead, by, [], this.#note(), now);
    const changes: ChangeRecord[] = [{ group: "leads", action: "add", entity: leadWebhookEntity(lead, by) }];
    if (contact && contactIsNew) changes.push(this.#contactChange("add", contact, by));
    this.ctx.emit(changes);
    return lead;
  }

  updateLead(id: number, input: UpdateLeadInput): Lead {
    const now = this.ctx.nowSeconds();
    const lead = this.liveLead(id);
    const by = input.by ?? this.ctx.defaultUserId;
    const changes: ChangeRecord[] = [];
    const touched = this.#applyFields(lead, input, by, now);
    if (input.responsibleUserId !== undefined && input.responsibleUserId !== lead.responsible_user_id) {
      const old = lead.responsible_user_id;
      lead.responsible_user_id = input.responsibleUserId;
      this.#touch(lead, by, now);
      this.#event("entity_responsible_changed", lead, by, [{ responsible_user: { id: old } }], [{
        responsible_user: { id: lead.responsible_user_id },
      }], now);
      changes.push({
        group: "leads",
        action: "responsible",
        entity: leadWebhookEntity(lead, by),
      });
    } else if (!touched) {
      return lead;
    }
    changes.push({ group: "leads", action: "update", entity: leadWebhookEntity(lead, by) });
    this.ctx.emit(changes);
    return lead;
  }

  moveLead(id: number, input: MoveLeadInput): Lead {
    // One clock read per operation: with an accelerated clock, microseconds between reads are whole seconds,
    // and amoCRM stamps a move's history, updated_at and event with one time.
    const now = this.ctx.nowSeconds();
    const lead = this.liveLead(id);
    const by = input.by ?? this.ctx.defaultUserId;
    const pipeline = this.#targetPipeline(lead, input);
    this.#status(pipeline, input.statusId);
    const priceTouched = this.#applyFields(lead, { price: input.price }, by, now);
    const from = { status: lead.status_id, pipeline: lead.pipeline_id };
    const moved = from.status !== input.statusId || from.pipeline !== pipeline.id;
    const changes: ChangeRecord[] = [];
    if (moved) {
      lead.status_id = input.statusId;
      lead.pipeline_id = pipeline.id;
      lead.closed_at = isClosedStatus(input.statusId) ? now : null;
      if (input.lossReasonId !== undefined) lead.loss_reason_id = input.lossReasonId;
      if (!isClosedStatus(input.statusId)) lead.loss_reason_id = null;
      lead.history.push({
        at: now,
        from_status_id: from.status,
        from_pipeline_id: from.pipeline,
        to_status_id: lead.status_id,
        to_pipeline_id: lead.pipeline_id,
      });
      this.#touch(lead, by, now);
      this.#event(
        "lead_status_changed",
        lead,
        by,
        [{
          lead_status: { id: from.status, pipeline_id: from.pipeline },
        }],
        leadStatus(lead),
        now,
      );
      changes.push({
        group: "leads",
        action: "status",
        entity: leadWebhookEntity(lead, by, { oldStatusId: from.status }),
      });
    }
    if (moved || priceTouched) {
      changes.push({ group: "leads", action: "update", entity: leadWebhookEntity(lead, by) });
    }
    if (changes.length > 0) this.ctx.emit(changes);
    return lead;
  }

  deleteLead(id: number, by?: number): Lead {
    const lead = this.liveLead(id);
    const actor = by ?? this.ctx.defaultUserId;
    const now = this.ctx.nowSeconds();
    lead.is_deleted = true;
    this.#touch(lead, actor, now);
    this.#event("lead_deleted", lead, actor, [], [], now);
    this.ctx.emit([{ group: "leads", action: "delete", entity: deletedLeadWebhookEntity(lead) }]);
    return lead;
  }

  /**
   * amoCRM's duplicate control merging `absorbedId` into `survivorId`. amocrm-api.md §7: it merges an incoming
   * chat deal into an existing deal automatically, but only when one of them is in Unsorted. How a merge shows
   * in account webhooks is not documented; this is the plausible variant (no other is known): the absorbed deal
   * goes to the trash (a delete webhook), the survivor takes its contacts (an update webhook), and the Events
   * API records `entity_merged` on the survivor with empty before/after values (§7) next to `lead_deleted`.
   */
  mergeLeads(survivorId: number, absorbedId: number, by?: number): Lead {
    const now = this.ctx.nowSeconds();
    const survivor = this.liveLead(survivorId);
    const absorbed = this.liveLead(absorbedId);
    const inUnsorted = (lead: Lead) =>
      this.#pipeline(lead.pipeline_id).statuses.some((status) =>
        status.id === lead.status_id && status.type === 1
      );
    if (survivorId === absorbedId || !(inUnsorted(survivor) || inUnsorted(absorbed))) {
      throw new SimError(400, "duplicate control merges two deals only when one of them is in Unsorted");
    }
    const actor = by ?? this.ctx.defaultUserId;
    for (const link of absorbed.contacts) {
      if (!survivor.contacts.some((c) => c.id === link.id)) {
        survivor.contacts.push({ id: link.id, is_main: survivor.contacts.length === 0 });
      }
    }
    absorbed.is_deleted = true;
    this.#touch(absorbed, actor, now);
    this.#touch(survivor, actor, now);
    this.#event("entity_merged", survivor, actor, [], [], now);
    this.#event("lead_deleted", absorbed, actor, [], [], now);
    this.ctx.emit([
      { group: "leads", action: "delete", entity: deletedLeadWebhookEntity(absorbed) },
      { group: "leads", action: "update", entity: leadWebhookEntity(survivor, actor) },
    ]);
    return survivor;
  }

  restoreLead(id: number, by?: number): Lead {
    const lead = this.lead(id);
    if (!lead.is_deleted) throw new SimError(400, `lead ${id} is not deleted`);
    const actor = by ?? this.ctx.defaultUserId;
    const now = this.ctx.nowSeconds();
    lead.is_deleted = false;
    this.#touch(lead, actor, now);
    this.#event("lead_restored", lead, actor, [], [], now);
    this.ctx.emit([{ group: "leads", action: "restore", entity: leadWebhookEntity(lead, actor) }]);
    return lead;
  }

  lead(id: number): Lead {
    const lead = this.leads.get(id);
    if (!lead) throw new SimError(404, `no lead ${id}`);
    return lead;
  }

  liveLead(id: number): Lead {
    const lead = this.lead(id);
    if (lead.is_deleted) throw new SimError(400, `lead ${id} is deleted`);
    return lead;
  }

  contact(id: number): Contact {
    const contact = this.contacts.get(id);
    if (!contact) throw new SimError(404, `no contact ${id}`);
    return contact;
  }

  /** Applies name/price; returns whether anything changed (and records the matching events). */
  #applyFields(lead: Lead, input: { name?: string; price?: number }, by: number, at: number): boolean {
    let touched = false;
    if (input.price !== undefined && input.price !== lead.price) {
      this.#event("sale_field_changed", lead, by, [{ sale_field_value: { sale: lead.price } }], [{
        sale_field_value: { sale: input.price },
      }], at);
      lead.price = input.price;
      touched = true;
    }
    if (input.name !== undefined && input.name !== lead.name) {
      this.#event("name_field_changed", lead, by, [{ name_field_value: { name: lead.name } }], [{
        name_field_value: { name: input.name },
      }], at);
      lead.name = input.name;
      touched = true;
    }
    if (touched) this.#touch(lead, by, at);
    return touched;
  }

  #newContact(input: CreateContactInput, now: number): Contact {
    const by = input.by ?? this.ctx.defaultUserId;
    const id = this.ctx.ids.take("contact");
    const name = input.name ?? `Контакт ${id}`;
    const [firstName, ...rest] = name.split(" ");
    const contact: Contact = {
      id,
      name,
      first_name: firstName,
      last_name: rest.join(" "),
      responsible_user_id: input.responsibleUserId ?? by,
      created_by: by,
      updated_by: by,
      created_at: now,
      updated_at: now,
      is_deleted: false,
      phones: [...(input.phones ?? [])],
      lead_ids: [],
      account_id: this.ctx.accountId,
    };
    this.contacts.set(id, contact);
    this.events.push({
      id: this.#eventId(),
      type: "contact_added",
      entity_id: id,
      entity_type: "contact",
      created_by: by,
      created_at: now,
      value_before: [],
      value_after: this.#note(),
      account_id: this.ctx.accountId,
    });
    return contact;
  }

  #contactChange(action: "add" | "update", contact: Contact, by: number | undefined): ChangeRecord {
    return {
      group: "contacts",
      action,
      entity: contactWebhookEntity(contact, by ?? this.ctx.defaultUserId, this.ctx.phoneField),
    };
  }

  #targetPipeline(lead: Lead, input: MoveLeadInput): Pipeline {
    if (input.pipelineId !== undefined) return this.#pipeline(input.pipelineId);
    const current = this.#pipeline(lead.pipeline_id);
    if (current.statuses.some((status) => status.id === input.statusId)) return current;
    const owner = this.ctx.pipelines.find((pipeline) =>
      pipeline.statuses.some((status) => status.id === input.statusId)
    );
    if (!owner) throw new SimError(400, `unknown status ${input.statusId}`);
    return owner;
  }

  #pipeline(id: number | undefined): Pipeline {
    const pipeline = id === undefined
      ? this.ctx.pipelines.find((candidate) => candidate.is_main) ?? this.ctx.pipelines[0]
      : this.ctx.pipelines.find((candidate) => candidate.id === id);
    if (!pipeline) throw new SimError(400, `unknown pipeline ${id}`);
    return pipeline;
  }

  #status(pipeline: Pipeline, statusId: number): void {
    if (!pipeline.statuses.some((status) => status.id === statusId)) {
      throw new SimError(400, `status ${statusId} is not in pipeline ${pipeline.id}`);
    }
  }

  #touch(lead: Lead, by: number, at: number): void {
    lead.updated_at = at;
    lead.updated_by = by;
  }

  #event(type: string, lead: Lead, by: number, before: unknown[], after: unknown[], at: number): void {
    this.events.push({
      id: this.#eventId(),
      type,
      entity_id: lead.id,
      entity_type: "lead",
      created_by: by,
      created_at: at,
      value_before: before,
      value_after: after,
      account_id: this.ctx.accountId,
    });
  }

  /** `[{note: {id}}]`: the system note amoCRM links to an "added" event. */
  #note(): unknown[] {
    return [{ note: { id: this.ctx.ids.take("note") } }];
  }

  /** amoCRM event ids are opaque strings. */
  #eventId(): string {
    return `01sim${this.ctx.ids.take("event").toString(36).padStart(21, "0")}`;
  }
}
