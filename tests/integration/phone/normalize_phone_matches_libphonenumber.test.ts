// Differential test: private.normalize_phone (the rule every insert path uses) against libphonenumber-js over
// tests/fixtures/phones/corpus.json (scripts/gen-phone-corpus.ts): real-world writings from RU, KZ, UZ, KG, BY,
// UA and foreign numbers, WhatsApp chat ids, extensions and junk, each read with its account's default
// country. Wherever libphonenumber-js calls the number valid, the SQL gives the same E.164; junk is null.
import assert from "node:assert/strict";
import { parsePhoneNumberFromString } from "libphonenumber-js";
import postgres from "postgres";

const DATABASE_URL = Deno.env.get("DATABASE_URL");
type Entry = { raw: string; country: string; kind: string };

/** A WhatsApp chat id is the international number without '+' (libphonenumber has no notion of it). */
function asLibraryInput(raw: string): string {
  const chat = raw.match(/^\+?(\d+)@(?:s\.whatsapp\.net|c\.us)$/);
  return chat ? `+${chat[1]}` : raw;
}

Deno.test({
  name: "normalize_phone agrees with libphonenumber-js on every number it calls valid",
  ignore: !DATABASE_URL,
  fn: async () => {
    const corpus: Entry[] = JSON.parse(
      await Deno.readTextFile(new URL("../../fixtures/phones/corpus.json", import.meta.url)),
    );
    assert.ok(corpus.length >= 500, "the corpus has at least 500 writings");
    const sql = postgres(DATABASE_URL!, { prepare: false, max: 1, onnotice: () => {} });
    try {
      const rows = await sql<{ e164: string | null }[]>`
        select private.normalize_phone(e.value ->> 'raw', e.value ->> 'country') as e164
        from jsonb_array_elements(${sql.json(corpus as never)}) with ordinality as e(value, n)
        order by e.n`;
      const disagreements: string[] = [];
      let valid = 0;
      corpus.forEach((entry, index) => {
        const got = rows[index].e164;
        const parsed = parsePhoneNumberFromString(asLibraryInput(entry.raw), entry.country as never);
        if (parsed?.isValid()) {
          valid++;
          if (got !== parsed.number) {
            disagreements.push(
              `${JSON.stringify(entry.raw)} (${entry.country}): SQL ${got}, libphonenumber ${parsed.number}`,
            );
          }
        } else if (entry.kind === "junk" && got !== null) {
          disagreements.push(`junk ${JSON.stringify(entry.raw)} (${entry.country}) became ${got}`);
        }
      });
      assert.deepEqual(disagreements, []);
      assert.ok(valid >= 400, `most of the corpus is valid numbers (${valid} of ${corpus.length})`);
    } finally {
      await sql.end();
    }
  },
});
