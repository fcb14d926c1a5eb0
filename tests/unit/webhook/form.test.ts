// The form parser against qs, the reference for PHP bracket bodies: equal on every captured fixture and on
// generated bodies; then the cases where it deliberately follows PHP or refuses to nest.
import assert from "node:assert/strict";
import qs from "qs";
import { phpLists } from "../../../supabase/functions/_shared/webhook/decode.ts";
import { bracketPath, MAX_FORM_DEPTH, parseForm } from "../../../supabase/functions/_shared/webhook/form.ts";

const QS_REFERENCE = {
  parseArrays: false,
  depth: MAX_FORM_DEPTH,
  parameterLimit: Number.POSITIVE_INFINITY,
  duplicates: "last",
  allowPrototypes: false,
} as const;

const decoded = (body: string) => phpLists(parseForm(body));
const reference = (body: string) => phpLists(qs.parse(body, QS_REFERENCE));

const FIXTURES = new URL("../../fixtures/amocrm/webhooks/", import.meta.url);

Deno.test("every captured form fixture decodes exactly as qs decodes it", () => {
  const forms = [...Deno.readDirSync(FIXTURES)].filter((f) => f.name.endsWith(".form"));
  assert.ok(forms.length >= 4, "form fixtures are present");
  for (const { name } of forms) {
    const body = Deno.readTextFileSync(new URL(name, FIXTURES)).trim();
    assert.deepEqual(decoded(body), reference(body), name);
  }
});

/** Small deterministic PRNG (mulberry32): the same bodies on every run. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAME_PARTS = [
  "id",
  "name",
  "status_id",
  "custom_fields",
  "values",
  "value",
  "enum",
  "Телефон",
  "a b",
  "x_1",
];
const VALUE_PARTS = ["1", "0", "", "Сделка", "a+b", "50%", "x&y=z", "[1]", "+7 (999) 123-45-67", "😀", " "];

/** A random tree of groups and values, written as http_build_query would (keys encoded, "+" for spaces). */
function generatedBody(random: () => number): string {
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  const pairs: string[] = [];
  const walk = (path: string[], depth: number) => {
    const children = 1 + Math.floor(random() * 4);
    for (let i = 0; i < children; i++) {
      // Index-like keys in order, sparse indices and names, like amoCRM's lists and maps.
      const key = random() < 0.5
        ? String(i)
        : random() < 0.5
        ? String(Math.floor(random() * 5000))
        : pick(NAME_PARTS);
      const childPath = [...path, key];
      if (depth < 6 && random() < 0.4) {
        walk(childPath, depth + 1);
      } else {
        const name = childPath[0] + childPath.slice(1).map((k) => `[${k}]`).join("");
        const encode = (text: string) => encodeURIComponent(text).replaceAll("%20", "+");
        const repeats = random() < 0.1 ? 2 : 1; // a repeated key: the last value wins in both
        for (let r = 0; r < repeats; r++) pairs.push(`${encode(name)}=${encode(pick(VALUE_PARTS) + r)}`);
      }
    }
  };
  walk([pick(["leads", "contacts", "account", "task"])], 0);
  return pairs.join("&");
}

Deno.test("2,000 generated bracket bodies decode exactly as qs decodes them", () => {
  const random = prng(20261124);
  for (let n = 0; n < 2000; n++) {
    const body = generatedBody(random);
    // A name reused once as a value and once as a group is the one place PHP and qs disagree (tested below).
    const paths = body.split("&").map((p) => decodeURIComponent(p.split("=")[0].replaceAll("+", " ")));
    if (paths.some((p) => paths.some((q) => q.startsWith(p + "[")))) continue;
    assert.deepEqual(decoded(body), reference(body), body);
  }
});

Deno.test("bracket keys: a name then bracket segments, anything else stays one key", () => {
  assert.deepEqual(bracketPath("leads[update][0][id]"), ["leads", "update", "0", "id"]);
  assert.deepEqual(bracketPath("account"), ["account"]);
  assert.deepEqual(bracketPath("a[]"), ["a", ""]);
  for (const odd of ["[a]", "a[b", "a[b]c", "a[[b]]", "a" + "[x]".repeat(MAX_FORM_DEPTH + 1)]) {
    assert.equal(bracketPath(odd), null, odd);
    assert.deepEqual(Object.keys(parseForm(`${encodeURIComponent(odd)}=1`)), [odd]);
  }
  assert.notEqual(bracketPath("a" + "[x]".repeat(MAX_FORM_DEPTH)), null);
});

Deno.test("PHP semantics: [] appends, a later pair replaces an earlier value or group", () => {
  assert.deepEqual(decoded("tags[]=a&tags[]=b&tags[5]=c&tags[]=d"), {
    tags: { 0: "a", 1: "b", 5: "c", 6: "d" },
  });
  assert.deepEqual(decoded("a=1&a[b]=2"), { a: { b: "2" } });
  assert.deepEqual(decoded("a[b]=2&a=1"), { a: "1" });
});

Deno.test("__proto__ in a key is dropped and never reaches Object.prototype", () => {
  const parsed = parseForm(
    "__proto__[polluted]=1&a[__proto__][polluted]=1&a[ok]=1&constructor[prototype][x]=1",
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
  assert.deepEqual(parsed.a, { ok: "1" });
  assert.equal(({} as Record<string, unknown>).x, undefined);
});

Deno.test("values decode as the platform decodes forms: + is a space, a malformed % stays as typed", () => {
  assert.deepEqual(parseForm("a=%D0%A2%D0%B5%D0%BB+1&b=50%&c=%zz"), { a: "Тел 1", b: "50%", c: "%zz" });
});

Deno.test("a body with more distinct keys than the key memory holds still decodes in full, twice", () => {
  const body = Array.from({ length: 25_000 }, (_, i) => `tags%5B${i}%5D%5Bname%5D=t${i}`).join("&");
  for (let round = 0; round < 2; round++) {
    const tags = parseForm(body).tags as Record<string, { name: string }>;
    assert.equal(Object.keys(tags).length, 25_000);
    assert.equal(tags["24999"].name, "t24999");
  }
});
