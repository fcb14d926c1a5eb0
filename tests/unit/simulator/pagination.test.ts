import assert from "node:assert/strict";
import { pageLinks, paginate, parseLimit, parsePage } from "../../../local/amocrm-simulator/pagination.ts";

Deno.test("limit: default when missing or junk, silently capped at the maximum", () => {
  assert.equal(parseLimit(undefined, 250, 50), 50);
  assert.equal(parseLimit("abc", 250, 50), 50);
  assert.equal(parseLimit("0", 250, 50), 50);
  assert.equal(parseLimit("-5", 250, 50), 50);
  assert.equal(parseLimit("250", 250, 50), 250);
  assert.equal(parseLimit("1000", 250, 50), 250);
  assert.equal(parseLimit("120", 100, 100), 100);
  assert.equal(parseLimit(["5", "6"], 250, 50), 50);
});

Deno.test("page: 1-based, junk → 1", () => {
  assert.equal(parsePage(undefined), 1);
  assert.equal(parsePage("0"), 1);
  assert.equal(parsePage("x"), 1);
  assert.equal(parsePage("7"), 7);
});

Deno.test("paginate: exact multiples have no next page; past the end is empty", () => {
  const items = Array.from({ length: 500 }, (_, index) => index);
  assert.deepEqual([paginate(items, 1, 250).pageItems.length, paginate(items, 1, 250).hasNext], [250, true]);
  assert.deepEqual([paginate(items, 2, 250).pageItems[0], paginate(items, 2, 250).hasNext], [250, false]);
  assert.deepEqual(paginate(items, 3, 250), { pageItems: [], hasNext: false });
  assert.deepEqual(paginate([1, 2, 3], 1, 2), { pageItems: [1, 2], hasNext: true });
  assert.deepEqual(paginate([], 1, 50), { pageItems: [], hasNext: false });
});

Deno.test("links: absolute, keep the filters, replace page/limit, no next on the last page", () => {
  const endpoint = "http://127.0.0.1:1/acme/api/v4/leads";
  const raw = "filter%5Bid%5D%5B%5D=1&filter%5Bid%5D%5B%5D=2&page=1&limit=900";
  const middle = pageLinks(endpoint, raw, 1, 250, true);
  assert.equal(
    middle.self.href,
    `${endpoint}?filter%5Bid%5D%5B%5D=1&filter%5Bid%5D%5B%5D=2&page=1&limit=250`,
  );
  assert.equal(
    middle.next?.href,
    `${endpoint}?filter%5Bid%5D%5B%5D=1&filter%5Bid%5D%5B%5D=2&page=2&limit=250`,
  );
  const last = pageLinks(endpoint, raw, 2, 250, false);
  assert.equal(last.next, undefined);
  // amoCRM's list examples: first and prev from page 2 on.
  assert.deepEqual(Object.keys(last), ["self", "first", "prev"]);
  assert.deepEqual(Object.keys(pageLinks(endpoint, raw, 1, 250, false)), ["self"]);
  // The mode for endpoints that always send next (the PHP SDK's issue tracker).
  assert.match(pageLinks(endpoint, raw, 2, 250, false, { nextOnLastPage: true }).next!.href, /page=3/);
});
