import assert from "node:assert/strict";
import {
  formatPhone,
  normalizeRussianPhone,
  PHONE_FORMATS,
  type PhoneFormat,
} from "../../../local/amocrm-simulator/phone_formats.ts";

Deno.test("phone formats: the real-world spellings of one number all normalise back to it", () => {
  const digits = "79123456789";
  const spelled = Object.fromEntries(
    (Object.keys(PHONE_FORMATS) as PhoneFormat[]).map((format) => [format, formatPhone(digits, format)]),
  );
  assert.equal(spelled.spaced, "+7 912 345-67-89");
  assert.equal(spelled.eightPlain, "89123456789");
  assert.equal(spelled.eightBracketed, "8 (912) 345-67-89");
  assert.equal(spelled.sevenPlain, "79123456789");
  for (const value of Object.values(spelled)) assert.equal(normalizeRussianPhone(value), digits);
  assert.equal(normalizeRussianPhone("2001"), null);
});
