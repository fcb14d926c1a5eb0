import assert from "node:assert/strict";
import {
  accountBaseUrl,
  buildUrl,
  encodeQuery,
  endpointOf,
  pagingOf,
  resolveNextUrl,
  withPaging,
} from "../../../supabase/functions/_shared/amocrm/urls.ts";
import { accountIdFromAccessToken } from "../../../supabase/functions/_shared/amocrm/oauth.ts";

Deno.test("base URL from subdomain and base domain, never www", () => {
  assert.equal(
    accountBaseUrl({ subdomain: "Unirock", base_domain: "amocrm.ru" }),
    "https://unirock.amocrm.ru",
  );
  assert.equal(accountBaseUrl({ subdomain: "acme", base_domain: "kommo.com" }), "https://acme.kommo.com");
  assert.throws(() => accountBaseUrl({ subdomain: "www", base_domain: "amocrm.ru" }));
  assert.throws(() => accountBaseUrl({ subdomain: "a.b", base_domain: "amocrm.ru" }));
  assert.throws(() => accountBaseUrl({ subdomain: "acme", base_domain: "evil.test" }));
  assert.throws(() =>
    accountBaseUrl({ subdomain: "acme", base_domain: "amocrm.ru", api_base_url: "https://www.amocrm.ru" })
  );
});

Deno.test("api_base_url overrides the address (simulator)", () => {
  const base = accountBaseUrl({
    subdomain: "acme",
    base_domain: "amocrm.ru",
    api_base_url: "http://127.0.0.1:9/acme/",
  });
  assert.equal(base, "http://127.0.0.1:9/acme");
});

Deno.test("PHP-style bracket queries: repeated array keys, skipped empties, insertion order", () => {
  const query = encodeQuery({
    "filter[id][]": [1, 2],
    with: "contacts",
    skip: undefined,
    none: null,
    limit: 250,
  });
  assert.equal(query, "filter%5Bid%5D%5B%5D=1&filter%5Bid%5D%5B%5D=2&with=contacts&limit=250");
  const params = new URLSearchParams(query);
  assert.deepEqual(params.getAll("filter[id][]"), ["1", "2"]);
  assert.equal(buildUrl("https://a.amocrm.ru", "/api/v4/leads"), "https://a.amocrm.ru/api/v4/leads");
});

Deno.test("next links: same base kept; a foreign host is mapped onto our base", () => {
  const sim = "http://127.0.0.1:5000/acme";
  assert.equal(
    resolveNextUrl(sim, "http://127.0.0.1:5000/acme/api/v4/leads?page=2&limit=250"),
    "http://127.0.0.1:5000/acme/api/v4/leads?page=2&limit=250",
  );
  assert.equal(
    resolveNextUrl(sim, "https://acme.amocrm.ru/api/v4/leads?page=2"),
    "http://127.0.0.1:5000/acme/api/v4/leads?page=2",
  );
  assert.equal(resolveNextUrl(sim, "/api/v4/leads?page=3"), "http://127.0.0.1:5000/acme/api/v4/leads?page=3");
  assert.equal(
    resolveNextUrl("https://acme.amocrm.ru", "https://evil.test/api/v4/leads?page=2"),
    "https://acme.amocrm.ru/api/v4/leads?page=2",
  );
  assert.throws(() => resolveNextUrl(sim, "https://evil.test/steal"));
});

Deno.test("endpoint traced without base path and query", () => {
  assert.equal(endpointOf("http://h:1/acme", "http://h:1/acme/api/v4/leads?filter[id][]=1"), "/api/v4/leads");
  assert.equal(
    endpointOf("https://acme.amocrm.ru", "https://acme.amocrm.ru/api/v4/leads/5"),
    "/api/v4/leads/5",
  );
});

Deno.test("paging of a list URL can be read and rewritten, relative stays relative", () => {
  assert.deepEqual(pagingOf("/api/v4/leads?limit=250&page=3", 250), { page: 3, limit: 250 });
  assert.deepEqual(pagingOf("/api/v4/leads/pipelines", 250), { page: 1, limit: 250 });
  assert.equal(
    withPaging("/api/v4/leads?a=1&limit=250&page=3", 125, 5),
    "/api/v4/leads?a=1&limit=125&page=5",
  );
  assert.equal(
    withPaging("http://h/x/api/v4/leads?page=2", 25, 7),
    "http://h/x/api/v4/leads?page=7&limit=25",
  );
});

Deno.test("account id is read from a JWT access token when present", () => {
  const b64 = (o: unknown) =>
    btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  const jwt = `${b64({ alg: "RS256" })}.${b64({ account_id: 28805383, jti: "x" })}.sig`;
  assert.equal(accountIdFromAccessToken(jwt), 28805383);
  assert.equal(accountIdFromAccessToken("opaque-token"), null);
  assert.equal(accountIdFromAccessToken("a.!!!.c"), null);
});
