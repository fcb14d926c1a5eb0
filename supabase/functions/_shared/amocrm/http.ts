// One HTTP attempt with a hard per-attempt timeout, turning transport failures into typed errors and 2xx bodies
// into JSON (204 / empty body = null).
import {
  AmoCrmInvalidResponseError,
  AmoCrmNetworkError,
  AmoCrmTimeoutError,
  errorFromResponse,
} from "./errors.ts";
import type { AmoCrmHttpError } from "./errors.ts";

export interface HttpAttempt {
  method: string;
  url: string;
  endpoint: string;
  connectionId: string;
  headers: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
}

export type HttpOutcome =
  | { ok: true; status: number; body: unknown; headers: Headers }
  | { ok: false; status: number; error: AmoCrmHttpError; headers: Headers };

/** Sends one request; throws AmoCrmNetworkError / AmoCrmTimeoutError / AmoCrmInvalidResponseError. */
export async function sendHttp(fetchFn: typeof fetch, attempt: HttpAttempt): Promise<HttpOutcome> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, attempt.timeoutMs);
  const onOuterAbort = () => controller.abort();
  attempt.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const where = { endpoint: attempt.endpoint, method: attempt.method, connectionId: attempt.connectionId };
  try {
    let response: Response;
    let text: string;
    try {
      response = await fetchFn(attempt.url, {
        method: attempt.method,
        headers: attempt.body === undefined
          ? attempt.headers
          : { ...attempt.headers, "content-type": "application/json" },
        body: attempt.body === undefined ? undefined : JSON.stringify(attempt.body),
        signal: controller.signal,
        redirect: "manual",
      });
      // The timeout covers the body too: a stalled body is as bad as a stalled connect.
      text = await response.text();
    } catch (cause) {
      if (timedOut) {
        throw new AmoCrmTimeoutError({
          ...where,
          detail: `no response within ${attempt.timeoutMs} ms`,
          cause,
        });
      }
      const detail = cause instanceof Error ? cause.message : String(cause);
      throw new AmoCrmNetworkError({ ...where, detail, cause });
    }
    const contentType = response.headers.get("content-type");
    if (response.status < 200 || response.status >= 300) {
      return {
        ok: false,
        status: response.status,
        headers: response.headers,
        error: errorFromResponse({ ...where, status: response.status, contentType, bodyText: text }),
      };
    }
    return {
      ok: true,
      status: response.status,
      headers: response.headers,
      body: parseSuccessBody(text, where),
    };
  } finally {
    clearTimeout(timer);
    attempt.signal?.removeEventListener("abort", onOuterAbort);
  }
}

/** 204 and empty bodies are "no result" (amoCRM's empty list / missing entity), anything else must be JSON. */
export function parseSuccessBody(
  text: string,
  where: { endpoint?: string; method?: string; connectionId?: string } = {},
): unknown {
  if (!text.trim()) return null;
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new AmoCrmInvalidResponseError({
      ...where,
      detail: `2xx body is not JSON: ${text.slice(0, 120)}`,
      cause,
    });
  }
}

/** `Retry-After` in milliseconds (seconds or HTTP date); amoCRM does not document it, honour it when present. */
export function retryAfterMs(headers: Headers, nowMs: number): number | null {
  const value = headers.get("retry-after");
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}
