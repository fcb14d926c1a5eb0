import {
  formatPhone,
  JUNK_PHONES,
  productPhone,
  randomMobileDigits,
  randomPhoneFormat,
  whatsappChatId,
} from "./phone_formats.ts";
import { createRandom, type Random } from "./random.ts";

export interface ScenarioOptions {
  /** Defaults to the simulator seed. */
  seed?: number;
  /** Product-created leads (N). */
  leads?: number;
  /** Ad creatives (M). */
  creatives?: number;
  /** Ad directions (D); creative c belongs to direction c % D, direction d works in pipeline d % pipelines. */
  directions?: number;
  /** Deals opened by managers that the product never created (default 15 % of N). */
  managerDeals?: number;
  /** Sim time the story spans (default 14 days). */
  durationSeconds?: number;
  /** Share of product leads identified by a WhatsApp chat_id instead of a website phone (default 0.5). */
  whatsappShare?: number;
  /** Chance that a step is a bulk edit of several leads in one webhook POST (default 0.05). */
  bulkEditShare?: number;
  /** Prices with kopecks/tiyn (e.g. 1234.56; the default) or whole hundreds (false). Since April 2026 amoCRM
   * keeps such prices (`price_with_minor_units`, amoCRM API docs "Leads"). */
  fractionalPrices?: boolean;
}

export type ResolvedScenarioOptions = Required<ScenarioOptions>;

/** The pipeline facts the planner needs (ids only, so the plan is a pure function of seed + structure). */
export interface ScenarioContext {
  pipelines: { id: number; unsortedStatusId: number; workStatusIds: number[] }[];
  userIds: number[];
  lossReasonIds: number[];
}

export interface PlannedProductLead {
  ref: number;
  creativeIndex: number;
  directionIndex: number;
  /** 11 digits, "79…". */
  phoneDigits: string;
  /** How the product stored it: website phone "+7 912 345-67-89" … */
  productPhone: string | null;
  /** … or WhatsApp chat id "79123456789@s.whatsapp.net". */
  chatId: string | null;
  /** How it was typed into the amoCRM contact. */
  amoPhone: string;
  name: string;
  pipelineId: number;
  statusId: number;
  responsibleUserId: number;
  /** Seconds after the scenario start. */
  createdOffset: number;
}

export interface PlannedManagerDeal {
  ref: number;
  /** Contact phone as typed (any format, junk) or none. */
  phone: string | null;
  /** The product lead whose customer this is (same number), if any. */
  matchesProductRef: number | null;
  name: string;
  pipelineId: number;
  statusId: number;
  responsibleUserId: number;
}

export type PlannedOp =
  | { kind: "createManagerDeal"; ref: number }
  | { kind: "move"; ref: number; pipelineId: number; statusId: number; by: number }
  | { kind: "win"; ref: number; price: number; by: number }
  | { kind: "lose"; ref: number; lossReasonId: number; by: number }
  | { kind: "price"; ref: number; price: number; by: number }
  | { kind: "responsible"; ref: number; userId: number; by: number }
  | { kind: "delete"; ref: number; by: number }
  | { kind: "restore"; ref: number; by: number };

export interface PlannedStep {
  /** Seconds after the scenario start. */
  at: number;
  /** More than one op = a bulk edit: one webhook POST with several entities. */
  ops: PlannedOp[];
}

export interface ScenarioPlan {
  options: ResolvedScenarioOptions;
  products: PlannedProductLead[];
  managerDeals: PlannedManagerDeal[];
  steps: PlannedStep[];
  /** Seconds after the start when the last product lead has been created. */
  creationPhaseSeconds: number;
}

export const CREATION_BATCH_SIZE = 50;
export const CREATION_BATCH_GAP_SECONDS = 30;

export function resolveScenarioOptions(
  options: ScenarioOptions,
  defaultSeed: number,
): ResolvedScenarioOptions {
  const leads = options.leads ?? 200;
  return {
    seed: options.seed ?? defaultSeed,
    leads,
    creatives: Math.max(1, options.creatives ?? 10),
    directions: Math.max(1, options.directions ?? 3),
    managerDeals: options.managerDeals ?? Math.round(leads * 0.15),
    durationSeconds: options.durationSeconds ?? 14 * 24 * 3600,
    whatsappShare: options.whatsappShare ?? 0.5,
    bulkEditShare: options.bulkEditShare ?? 0.05,
    fractionalPrices: options.fractionalPrices ?? true,
  };
}

interface LeadState {
  pipeline: number;
  /** Index into the pipeline's work stages; -1 = unsorted. */
  stage: number;
  outcome: "open" | "won" | "lost";
  price: number;
}

interface TimedOp {
  at: number;
  seq: number;
  op: PlannedOp;
}

/** A reproducible story: the same seed and pipeline structure always give the same plan. */
export function planScenario(options: ResolvedScenarioOptions, ctx: ScenarioContext): ScenarioPlan {
  const random = createRandom(options.seed);
  const creativeWeights = Array.from({ length: options.creatives }, (_, index) => 1 / (1 + index * 0.3));
  const usedDigits = new Set<string>();
  const uniqueDigits = (): string => {
    for (;;) {
      const digits = randomMobileDigits(random);
      if (!usedDigits.has(digits)) {
        usedDigits.add(digits);
        return digits;
      }
    }
  };

  const products: PlannedProductLead[] = [];
  for (let ref = 0; ref < options.leads; ref++) {
    const creativeIndex = random.weightedIndex(creativeWeights);
    const directionIndex = creativeIndex % options.directions;
    const pipeline = ctx.pipelines[directionIndex % ctx.pipelines.length];
    const digits = uniqueDigits();
    const whatsapp = random.chance(options.whatsappShare);
    products.push({
      ref,
      creativeIndex,
      directionIndex,
      phoneDigits: digits,
      productPhone: whatsapp ? null : productPhone(digits),
      chatId: whatsapp ? whatsappChatId(digits) : null,
      amoPhone: formatPhone(digits, randomPhoneFormat(random)),
      name: `${whatsapp ? "WhatsApp" : "Заявка с сайта"}: креатив ${creativeIndex + 1}`,
      pipelineId: pipeline.id,
      statusId: random.chance(0.15) ? pipeline.unsortedStatusId : pipeline.workStatusIds[0],
      responsibleUserId: random.pick(ctx.userIds),
      createdOffset: Math.floor(ref / CREATION_BATCH_SIZE) * CREATION_BATCH_GAP_SECONDS,
    });
  }
  const creationPhaseSeconds = Math.ceil(options.leads / CREATION_BATCH_SIZE) * CREATION_BATCH_GAP_SECONDS;
  const end = Math.max(options.durationSeconds, creationPhaseSeconds + 3600);

  const timed: TimedOp[] = [];
  let seq = 0;
  const push = (at: number, op: PlannedOp) => timed.push({ at, seq: seq++, op });

  for (const product of products) {
    const pipelineIndex = ctx.pipelines.findIndex((pipeline) => pipeline.id === product.pipelineId);
    const state: LeadState = {
      pipeline: pipelineIndex,
      stage: product.statusId === ctx.pipelines[pipelineIndex].unsortedStatusId ? -1 : 0,
      outcome: "open",
      price: 0,
    };
    const start = creationPhaseSeconds + random.int(60, Math.floor((end - creationPhaseSeconds) * 0.3));
    for (const [at, op] of lifecycle(random, ctx, product.ref, state, start, end, options.fractionalPrices)) {
      push(at, op);
    }
  }

  const managerDeals: PlannedManagerDeal[] = [];
  for (let index = 0; index < options.managerDeals; index++) {
    const ref = options.leads + index;
    const roll = random.next();
    let phone: string | null = null;
    let matchesProductRef: number | null = null;
    if (roll < 0.4 && products.length > 0) {
      const customer = random.pick(products);
      matchesProductRef = customer.ref;
      phone = formatPhone(customer.phoneDigits, randomPhoneFormat(random));
    } else if (roll < 0.85) phone = formatPhone(uniqueDigits(), randomPhoneFormat(random));
    else if (roll < 0.95) phone = random.pick(JUNK_PHONES);
    const pipelineIndex = random.int(0, ctx.pipelines.length - 1);
    const pipeline = ctx.pipelines[pipelineIndex];
    const unsorted = random.chance(0.3);
    managerDeals.push({
      ref,
      phone,
      matchesProductRef,
      name: matchesProductRef === null ? `Сделка менеджера ${index + 1}` : `Повторное обращение ${index + 1}`,
      pipelineId: pipeline.id,
      statusId: unsorted ? pipeline.unsortedStatusId : pipeline.workStatusIds[0],
      responsibleUserId: random.pick(ctx.userIds),
    });
    const createdAt = creationPhaseSeconds + random.int(60, Math.floor((end - creationPhaseSeconds) * 0.8));
    push(createdAt, { kind: "createManagerDeal", ref });
    const state: LeadState = { pipeline: pipelineIndex, stage: unsorted ? -1 : 0, outcome: "open", price: 0 };
    for (
      const [at, op] of lifecycle(random, ctx, ref, state, createdAt + 60, end, options.fractionalPrices)
    ) push(at, op);
  }

  timed.sort((a, b) => a.at - b.at || a.seq - b.seq);
  return {
    options,
    products,
    managerDeals,
    steps: groupSteps(random, timed, options.bulkEditShare),
    creationPhaseSeconds,
  };
}

/** One deal's story from `start`: stage moves, price edits, pipeline moves, win/loss, reopen, delete/restore. */
function lifecycle(
  random: Random,
  ctx: ScenarioContext,
  ref: number,
  state: LeadState,
  start: number,
  end: number,
  fractionalPrices = true,
): [number, PlannedOp][] {
  const ops: [number, PlannedOp][] = [];
  let at = start;
  const manager = random.pick(ctx.userIds);
  const next = (op: PlannedOp) => {
    ops.push([at, op]);
    at += random.int(10 * 60, 36 * 3600);
  };
  const pipeline = () => ctx.pipelines[state.pipeline];
  // Rubles and kopecks (5,000.00 … 300,000.00; the exact amount is price_with_minor_units), or whole hundreds.
  const price = () => fractionalPrices ? random.int(5_000_00, 300_000_00) / 100 : random.int(50, 3000) * 100;
  const moveTo = (stage: number) => {
    state.stage = stage;
    state.outcome = "open";
    next({
      kind: "move",
      ref,
      pipelineId: pipeline().id,
      statusId: pipeline().workStatusIds[stage],
      by: manager,
    });
  };
  const win = () => {
    if (state.price === 0 || random.chance(0.5)) state.price = price();
    state.outcome = "won";
    next({ kind: "win", ref, price: state.price, by: manager });
  };

  if (random.chance(0.12)) return ops; // never touched by anyone
  if (random.chance(0.05)) {
    const userId = random.pick(ctx.userIds.filter((id) => id !== manager));
    if (userId !== undefined) next({ kind: "responsible", ref, userId, by: manager });
  }
  const lastStage = pipeline().workStatusIds.length - 1;
  const advances = random.int(0, Math.max(0, lastStage - state.stage));
  for (let step = 0; step < advances && state.stage < lastStage; step++) {
    const skip = state.stage + 2 <= lastStage && random.chance(0.1) ? 2 : 1;
    moveTo(state.stage + skip);
    if (random.chance(0.25)) {
      state.price = price();
      next({ kind: "price", ref, price: state.price, by: manager });
    }
  }
  if (ctx.pipelines.length > 1 && random.chance(0.08)) {
    const others = ctx.pipelines.map((_, index) => index).filter((index) => index !== state.pipeline);
    state.pipeline = random.pick(others);
    moveTo(random.int(0, pipeline().workStatusIds.length - 1));
  }
  const outcome = random.next();
  if (outcome < 0.35) {
    win();
    if (random.chance(0.12)) {
      state.price = price();
      next({ kind: "price", ref, price: state.price, by: manager });
    }
    if (random.chance(0.06)) {
      moveTo(random.int(0, pipeline().workStatusIds.length - 1)); // won → reopened
      if (random.chance(0.5)) win();
    }
  } else if (outcome < 0.65) {
    state.outcome = "lost";
    next({ kind: "lose", ref, lossReasonId: random.pick(ctx.lossReasonIds), by: manager });
  }
  if (random.chance(0.04)) {
    next({ kind: "delete", ref, by: manager });
    if (random.chance(0.4)) next({ kind: "restore", ref, by: manager });
  }
  // A story cut by the end of the scenario stays consistent: only a prefix is kept.
  return ops.filter(([opAt]) => opAt <= end);
}

/** Consecutive ops become steps; sometimes a run of ops on different deals becomes one bulk edit. */
function groupSteps(random: Random, timed: TimedOp[], bulkEditShare: number): PlannedStep[] {
  const steps: PlannedStep[] = [];
  for (let index = 0; index < timed.length;) {
    const first = timed[index];
    const ops: PlannedOp[] = [first.op];
    index++;
    if (first.op.kind !== "createManagerDeal" && random.chance(bulkEditShare)) {
      const size = random.int(2, 6);
      const refs = new Set([first.op.ref]);
      while (ops.length < size && index < timed.length) {
        const op = timed[index].op;
        if (op.kind === "createManagerDeal" || refs.has(op.ref)) break;
        refs.add(op.ref);
        ops.push(op);
        index++;
      }
    }
    steps.push({ at: first.at, ops });
  }
  return steps;
}
