import assert from "node:assert/strict";
import { parseLeadListQuery, selectLeads } from "../../../local/amocrm-simulator/lead_query.ts";
import { parseQuery } from "../../../local/amocrm-simulator/query_params.ts";
import type { Lead } from "../../../local/amocrm-simulator/types.ts";

const lead = (id: number, updated_at: number, extra: Partial<Lead> = {}): Lead => ({
  id,
  name: `#${id}`,
  price: 0,
  responsible_user_id: 1,
  status_id: 10,
  pipeline_id: 1,
  loss_reason_id: null,
  created_by: 1,
  updated_by: 1,
  created_at: 100,
  updated_at,
  closed_at: null,
  is_deleted: false,
  custom_fields: [],
  contacts: [],
  tags: [],
  account_id: 1,
  history: [],
  ...extra,
});

const leads = [
  lead(1, 300),
  lead(2, 100),
  lead(3, 200),
  lead(4, 200, { pipeline_id: 2, status_id: 20 }),
  lead(5, 50, { is_deleted: true }),
];
const select = (search: string) =>
  selectLeads(leads, parseLeadListQuery(parseQuery(search))).map((l) => l.id);

Deno.test("lead query: id filters in all spellings, default order by id", () => {
  assert.deepEqual(select(""), [1, 2, 3, 4]);
  assert.deepEqual(select("filter[id][]=3&filter[id][]=1"), [1, 3]);
  assert.deepEqual(select("filter%5Bid%5D%5B0%5D=2&filter%5Bid%5D%5B1%5D=4"), [2, 4]);
  assert.deepEqual(select("filter[id]=4,2"), [2, 4]);
  const many = Array.from({ length: 300 }, (_, index) => `filter[id][]=${index}`).join("&");
  assert.deepEqual(select(many), [1, 2, 3, 4], "hundreds of ids stay a list");
});

Deno.test("lead query: updated_at window is inclusive; order[updated_at] with id tie-break", () => {
  assert.deepEqual(select("filter[updated_at][from]=200&order[updated_at]=asc"), [3, 4, 1]);
  assert.deepEqual(select("filter[updated_at][from]=100&filter[updated_at][to]=200&order[updated_at]=desc"), [
    4,
    3,
    2,
  ]);
  // A single value means "after T" (amoCRM's events page words filter[created_at] so; the leads filter alike).
  assert.deepEqual(select("filter[updated_at]=299"), [1]);
  assert.deepEqual(select("filter[updated_at]=300"), []);
});

Deno.test("lead query: pipeline and statuses filters; only_deleted shows the trash", () => {
  assert.deepEqual(select("filter[pipeline_id][]=2"), [4]);
  assert.deepEqual(select("filter[statuses][0][pipeline_id]=1&filter[statuses][0][status_id]=10"), [1, 2, 3]);
  assert.deepEqual(select("with=only_deleted"), [5]);
});
