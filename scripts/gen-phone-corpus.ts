// Writes tests/fixtures/phones/corpus.json: phone numbers the way people and tools really write them into
// site forms, amoCRM contacts and chat ids (RU, KZ, UZ, KG, BY, UA, foreign numbers, WhatsApp chat ids,
// extensions, junk), each with the default country of the account it arrives in. Deterministic (seeded).
// Run: deno run -A scripts/gen-phone-corpus.ts
type Entry = { raw: string; country: string; kind: string };

let seed = 20261201;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 10)).join("");
const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];

// National significant numbers per country: [country, calling code, trunk prefix written nationally, prefixes].
const plans: [string, string, string, string[], number][] = [
  ["RU", "7", "8", ["912", "916", "926", "903", "985", "999", "495", "812", "343", "861"], 7],
  ["KZ", "7", "8", ["701", "702", "705", "707", "747", "771", "775", "778", "727", "717"], 7],
  ["UZ", "998", "", ["90", "91", "93", "94", "97", "99", "88", "33", "71"], 7],
  ["KG", "996", "0", ["555", "700", "707", "770", "550", "312", "990", "222"], 6],
  ["BY", "375", "8 0", ["29", "33", "44", "25", "17"], 7],
  ["UA", "380", "0", ["50", "66", "67", "68", "93", "97", "44", "63", "73"], 7],
];
// Foreign numbers written with their country code: [calling code, national number generator].
const foreign: [string, () => string][] = [
  ["84", () => pick(["91", "98", "90", "35", "70"]) + digits(7)], // Vietnam
  ["44", () => "7" + pick(["700", "911", "400", "500"]) + digits(6)], // UK mobile
  ["44", () => "20" + pick(["7946", "8123", "3000"]) + digits(4)], // London
  ["1", () => pick(["212", "415", "646", "305", "416"]) + pick(["555", "234", "867"]) + digits(4)], // US, CA
  ["49", () => "151" + digits(8)], // Germany
  ["90", () => "5" + pick(["32", "35", "42", "05"]) + digits(7)], // Turkey
  ["86", () => "1" + pick(["38", "39", "50", "86"]) + digits(8)], // China
  ["971", () => "5" + pick(["0", "2", "5", "6"]) + digits(7)], // UAE
  ["972", () => "5" + pick(["0", "2", "4", "8"]) + digits(7)], // Israel
  ["995", () => "5" + pick(["55", "77", "91", "99"]) + digits(6)], // Georgia
  ["374", () => pick(["77", "91", "93", "99"]) + digits(6)], // Armenia
  ["994", () => pick(["50", "51", "55", "70"]) + digits(7)], // Azerbaijan
  ["992", () => pick(["90", "91", "92", "93"]) + digits(7)], // Tajikistan
  ["48", () => pick(["500", "601", "790"]) + digits(6)], // Poland
  ["66", () => pick(["81", "89", "95"]) + digits(7)], // Thailand
];

const spaced = (s: string, groups: number[]) => {
  const out: string[] = [];
  let i = 0;
  for (const g of groups) out.push(s.slice(i, i += g));
  if (i < s.length) out.push(s.slice(i));
  return out.filter(Boolean);
};

const entries: Entry[] = [];
const add = (raw: string, country: string, kind: string) => entries.push({ raw, country, kind });

for (const [country, cc, trunk, prefixes, rest] of plans) {
  for (let n = 0; n < 16; n++) {
    const nsn = pick(prefixes) + digits(rest);
    const [a, b, c, d] = spaced(nsn, [nsn.length - 7, 3, 2, 2]);
    const national = trunk.replace(" ", "");
    const writings = [
      `+${cc} ${a} ${b}-${c}-${d}`,
      `+${cc} (${a}) ${b}-${c}-${d}`,
      `+${cc}${nsn}`,
      `${cc}${nsn}`,
      `${cc} ${a} ${b} ${c} ${d}`,
      `00${cc}${nsn}`,
      `${national}${nsn}`,
      `${national} (${a}) ${b}-${c}-${d}`,
      `${national}-${a}-${b}-${c}-${d}`,
      `${national} ${a} ${b} ${c}${d}`,
      `${nsn}`,
      `(${a}) ${b}-${c}-${d}`,
      `+${cc} ${a} ${b}-${c}-${d} доб. ${digits(3)}`,
      `${national} ${a} ${b}-${c}-${d} ext. ${digits(2)}`,
      `тел: +${cc} ${a} ${b} ${c} ${d}`,
      `${cc}${nsn}@s.whatsapp.net`,
    ];
    // Each number in a few of its writings, read by an account of its own country and, now and then, of another.
    for (const raw of [pick(writings), pick(writings), pick(writings)]) add(raw, country, "national_or_own");
    add(pick(writings.slice(0, 6)), pick(["RU", "KZ", "UZ", "KG", "BY", "UA"]), "international_elsewhere");
  }
}
for (let n = 0; n < 110; n++) {
  const [cc, nsn] = ((f) => [f[0], f[1]()] as const)(pick(foreign));
  const groups = spaced(nsn, [3, 3, 2, 2]);
  const raw = pick([
    `+${cc} ${groups.join(" ")}`,
    `+${cc}${nsn}`,
    `+${cc} (${groups[0]}) ${groups.slice(1).join("-")}`,
    `00${cc} ${nsn}`,
    `${cc}${nsn}@s.whatsapp.net`,
    `+${cc}-${groups.join("-")}`,
  ]);
  add(raw, pick(["RU", "RU", "KZ", "UZ", "KG", "BY", "UA"]), "foreign");
}
// The cases the old rule got wrong.
add("+84 912 345 678", "RU", "foreign");
add("+7 912 345-67-89 доб. 123", "RU", "national_or_own");
add("0079123456789", "UA", "national_or_own");
add("8 (800) 555-35-35", "RU", "national_or_own");
add("+44 (0)20 7946 0958", "RU", "foreign");
// WhatsApp chat ids of every country, and things in PHONE fields that are not phones.
for (
  const id of ["79123456789", "77011234567", "998901234567", "996555123456", "375291234567", "380671234567"]
) {
  add(`${id}@s.whatsapp.net`, "RU", "whatsapp");
  add(`${id}@c.us`, "KZ", "whatsapp");
}
const junk = [
  "",
  "нет",
  "не указан",
  "-",
  "0",
  "123",
  "2001",
  "доб. 123",
  "89",
  "+",
  "++7",
  "7",
  "-----",
  "тест",
  "ivan@example.com",
  "120363025555555555@g.us",
  "79123456789-1600000000@g.us",
  "000000",
  "1234567890123456789",
  "позвонить после 18:00",
  "N/A",
  "null",
  "undefined",
  "(   )   -  -",
  "+0 000 000",
  "8 (000) 000-00-00",
];
for (const raw of junk) add(raw, pick(["RU", "KZ", "UA"]), "junk");

const target = new URL("../tests/fixtures/phones/corpus.json", import.meta.url);
await Deno.writeTextFile(target, JSON.stringify(entries, null, 1) + "\n");
console.log(`wrote ${target.pathname}: ${entries.length} writings`);
