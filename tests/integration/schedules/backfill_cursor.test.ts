// The backfill's keyset cursor (pure): full pages move on by created_at, a page that is all one second moves on
// by page number, a short page ends the live scan (→ trash) and then the trash scan (→ ids).
import assert from "node:assert/strict";
import {
  BACKFILL_PAGE_SIZE,
  type BackfillCursor,
  nextScanCursor,
} from "../../../supabase/functions/_shared/jobs/backfill.ts";
import type { AmoLead } from "../../../supabase/functions/_shared/amocrm/mod.ts";

const start: BackfillCursor = {
  phase: "scan",
  created_from: 0,
  page: 1,
  after_id: 0,
  step: 0,
  to: 2_000_000_000,
};
const leads = (count: number, createdAt: (i: number) => number) =>
  Array.from(
    { length: count },
    (_, i) => ({ id: i + 1, created_at: createdAt(i), updated_at: 1 }) as AmoLead,
  );

Deno.test("a full page continues from its newest created_at, page 1", () => {
  const next = nextScanCursor(start, leads(BACKFILL_PAGE_SIZE, (i) => 1000 + i));
  assert.deepEqual(next, { ...start, created_from: 1000 + BACKFILL_PAGE_SIZE - 1, page: 1, step: 1 });
});

Deno.test("a full page of one second continues with the next page of that second", () => {
  const cursor = { ...start, created_from: 5000, step: 3 };
  const next = nextScanCursor(cursor, leads(BACKFILL_PAGE_SIZE, () => 5000));
  assert.deepEqual(next, { ...cursor, page: 2, step: 4 });
});

Deno.test("a short page ends the live scan, then the trash scan", () => {
  const trash = nextScanCursor({ ...start, created_from: 7000, page: 2 }, leads(10, () => 7000));
  assert.deepEqual(trash, { ...start, phase: "trash", created_from: 0, page: 1, step: 1 });
  const ids = nextScanCursor(trash, []);
  assert.deepEqual(ids, { ...trash, phase: "ids", step: 2 });
});

Deno.test("a full trash page moves on by page number: trash leads carry no created_at", () => {
  // amoCRM's leads API page: a with=only_deleted lead is only id, updated_at, updated_by, is_deleted.
  const cursor: BackfillCursor = { ...start, phase: "trash", created_from: 0, page: 3, step: 9 };
  const trash = Array.from(
    { length: BACKFILL_PAGE_SIZE },
    (_, i) => ({ id: i + 1, updated_at: 5000 + i, is_deleted: true }) as AmoLead,
  );
  assert.deepEqual(nextScanCursor(cursor, trash), { ...cursor, page: 4, step: 10 });
  // Even if a trash lead did carry created_at, the trash is not keyset-paged.
  const dated = trash.map((lead, i) => ({ ...lead, created_at: 7000 + i }));
  assert.deepEqual(nextScanCursor(cursor, dated), { ...cursor, page: 4, step: 10 });
});
