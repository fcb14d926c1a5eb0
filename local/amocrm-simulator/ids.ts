/** Server-wide id sequences: ids never collide across accounts and are reproducible for a given call order. */
const FIRST_IDS = {
  account: 32_000_001,
  pipeline: 7_100_001,
  status: 61_000_001,
  lead: 30_000_001,
  contact: 50_000_001,
  webhook: 1_001,
  event: 1,
  user: 8_000_001,
  field: 575_801,
  enum: 311_301,
  lossReason: 9_001,
  note: 100_000_001,
};

export type IdKind = keyof typeof FIRST_IDS;

export class IdSequences {
  readonly #next: Record<IdKind, number> = { ...FIRST_IDS };

  take(kind: IdKind): number {
    return this.#next[kind]++;
  }
}
