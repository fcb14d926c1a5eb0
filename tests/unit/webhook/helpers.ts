// Building webhook bodies the way amoCRM's PHP sender does (http_build_query: bracket keys, indices, strings).
import qs from "qs";

export const FORM = "application/x-www-form-urlencoded";

export function phpForm(value: unknown): string {
  return qs.stringify(value, { arrayFormat: "indices" });
}

export function lead(id: number, ts: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    id: String(id),
    name: `Deal ${id}`,
    status_id: "142",
    price: "1500",
    pipeline_id: "936736",
    last_modified: String(ts),
    created_at: String(ts - 100),
    updated_at: String(ts),
    ...extra,
  };
}

export function contact(id: number, ts: number, phones: string[], type = "contact"): Record<string, unknown> {
  return {
    id: String(id),
    name: `Contact ${id}`,
    custom_fields: [{
      id: "575809",
      name: "Телефон",
      code: "PHONE",
      values: phones.map((p) => ({ value: p, enum: "311321" })),
    }],
    created_at: String(ts - 100),
    updated_at: String(ts),
    type,
  };
}
