import type { Random } from "./random.ts";

/**
 * The ways people and tools actually type a Russian mobile number into amoCRM.
 * Input: 11 digits starting with 7 (e.g. "79123456789").
 */
export const PHONE_FORMATS = {
  spaced: (d: string) => `+7 ${d.slice(1, 4)} ${d.slice(4, 7)}-${d.slice(7, 9)}-${d.slice(9, 11)}`,
  eightPlain: (d: string) => `8${d.slice(1)}`,
  eightBracketed: (d: string) => `8 (${d.slice(1, 4)}) ${d.slice(4, 7)}-${d.slice(7, 9)}-${d.slice(9, 11)}`,
  sevenPlain: (d: string) => d,
  plusPlain: (d: string) => `+${d}`,
  plusBracketed: (d: string) => `+7 (${d.slice(1, 4)}) ${d.slice(4, 7)}-${d.slice(7, 9)}-${d.slice(9, 11)}`,
  dashed: (d: string) => `8-${d.slice(1, 4)}-${d.slice(4, 7)}-${d.slice(7, 9)}-${d.slice(9, 11)}`,
} as const;

export type PhoneFormat = keyof typeof PHONE_FORMATS;

/** Values that are not phone numbers at all but sit in the PHONE field anyway. */
export const JUNK_PHONES = ["2001", "123", "нет", "0"];

export function formatPhone(digits: string, format: PhoneFormat): string {
  return PHONE_FORMATS[format](digits);
}

/** The format the product stores for website leads: "+7 912 345-67-89". */
export function productPhone(digits: string): string {
  return PHONE_FORMATS.spaced(digits);
}

export function whatsappChatId(digits: string): string {
  return `${digits}@s.whatsapp.net`;
}

export function randomPhoneFormat(random: Random): PhoneFormat {
  return random.pick(Object.keys(PHONE_FORMATS) as PhoneFormat[]);
}

/** A random Russian mobile: "79" + 9 digits. */
export function randomMobileDigits(random: Random): string {
  let digits = "79";
  for (let index = 0; index < 9; index++) digits += String(random.int(0, 9));
  return digits;
}

/** Best-effort normalisation to 11 digits starting with 7, or null for junk (used by the TRUTH output). */
export function normalizeRussianPhone(raw: string): string | null {
  const digits = raw.replace(/\D/g, "");
  if (digits.length === 11 && (digits.startsWith("7") || digits.startsWith("8"))) {
    return `7${digits.slice(1)}`;
  }
  if (digits.length === 10 && digits.startsWith("9")) return `7${digits}`;
  return null;
}
