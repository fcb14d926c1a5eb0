// One error hierarchy for everything the amoCRM client can throw. Every error carries the HTTP status (null when
// no response came), a human detail, the endpoint and the connection, so callers and logs never parse messages.

export type AmoCrmErrorCode =
  | "bad_request"
  | "unauthorized"
  | "payment_required"
  | "forbidden"
  | "not_found"
  | "rate_limited"
  | "server_error"
  | "gateway_timeout"
  | "http_error"
  | "network"
  | "timeout"
  | "invalid_response"
  | "circuit_open"
  | "connection_unavailable"
  | "reauth_required";

export interface AmoCrmErrorInit {
  status?: number | null;
  detail?: string;
  title?: string;
  endpoint?: string;
  method?: string;
  connectionId?: string;
  /** `validation-errors` of a 400 problem+json body, as sent. */
  validationErrors?: unknown;
  /** amoCRM's own error code when the body carries one (`error_code`; 101 = no such account). */
  amocrmErrorCode?: number;
  cause?: unknown;
}

export class AmoCrmError extends Error {
  readonly code: AmoCrmErrorCode;
  readonly status: number | null;
  readonly detail: string;
  readonly title: string | undefined;
  readonly endpoint: string;
  readonly method: string;
  readonly connectionId: string | undefined;
  readonly validationErrors: unknown;
  readonly amocrmErrorCode: number | undefined;

  constructor(code: AmoCrmErrorCode, init: AmoCrmErrorInit = {}) {
    const endpoint = init.endpoint ?? "";
    const method = init.method ?? "";
    const detail = init.detail ?? init.title ?? code;
    const where = endpoint ? ` (${[method, endpoint].filter(Boolean).join(" ")})` : "";
    const status = init.status ?? null;
    super(
      `amoCRM ${status ?? code}: ${detail}${where}`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.detail = detail;
    this.title = init.title;
    this.endpoint = endpoint;
    this.method = method;
    this.connectionId = init.connectionId;
    this.validationErrors = init.validationErrors;
    this.amocrmErrorCode = init.amocrmErrorCode;
  }
}

/** amoCRM answered with a non-2xx status. */
export class AmoCrmHttpError extends AmoCrmError {
  constructor(init: AmoCrmErrorInit, code: AmoCrmErrorCode = "http_error") {
    super(code, init);
  }
}
export class AmoCrmBadRequestError extends AmoCrmHttpError {
  constructor(init: AmoCrmErrorInit) {
    super(init, "bad_request");
  }
}
export class AmoCrmUnauthorizedError extends AmoCrmHttpError {
  constructor(init: AmoCrmErrorInit) {
    super(init, "unauthorized");
  }
}
export class AmoCrmPaymentRequiredError extends AmoCrmHttpError {
  constructor(init: AmoCrmErrorInit) {
    super(init, "payment_required");
  }
}
/** 403: amoCRM blocked the account (usually after rate-limit violations). Opens the circuit breaker. */
export class AmoCrmForbiddenError extends AmoCrmHttpError {
  constructor(init: AmoCrmErrorInit) {
    super(init, "forbidden");
  }
}
export class AmoCrmNotFoundError extends AmoCrmHttpError {
  constructor(init: AmoCrmErrorInit) {
    super(init, "not_found");
  }
}
export class AmoCrmRateLimitError extends AmoCrmHttpError {
  constructor(init: AmoCrmErrorInit) {
    super(init, "rate_limited");
  }
}
export class AmoCrmServerError extends AmoCrmHttpError {
  constructor(init: AmoCrmErrorInit, code: AmoCrmErrorCode = "server_error") {
    super(init, code);
  }
}
export class AmoCrmGatewayTimeoutError extends AmoCrmServerError {
  constructor(init: AmoCrmErrorInit) {
    super(init, "gateway_timeout");
  }
}

/** No HTTP response: connection refused/reset, DNS, TLS… */
export class AmoCrmNetworkError extends AmoCrmError {
  constructor(init: AmoCrmErrorInit, code: AmoCrmErrorCode = "network") {
    super(code, init);
  }
}
/** The per-request timeout fired before a response arrived. */
export class AmoCrmTimeoutError extends AmoCrmNetworkError {
  constructor(init: AmoCrmErrorInit) {
    super(init, "timeout");
  }
}

/** A 2xx body that is not JSON or does not match the expected shape. */
export class AmoCrmInvalidResponseError extends AmoCrmError {
  constructor(init: AmoCrmErrorInit) {
    super("invalid_response", init);
  }
}

/** The client refused to make the call; nothing was sent to amoCRM. */
export class AmoCrmUnavailableError extends AmoCrmError {}

/** The connection's circuit breaker is open (amoCRM answered 403 earlier). */
export class AmoCrmCircuitOpenError extends AmoCrmUnavailableError {
  constructor(init: AmoCrmErrorInit) {
    super("circuit_open", init);
  }
}

/** The connection is not usable in its current state (pending, account_unpaid, disconnected, …). */
export class AmoCrmConnectionStateError extends AmoCrmUnavailableError {
  readonly state: string;
  constructor(state: string, init: AmoCrmErrorInit, code: AmoCrmErrorCode = "connection_unavailable") {
    super(code, { detail: `connection is ${state}`, ...init });
    this.state = state;
  }
}

/** The OAuth grant is gone (refresh answered 401, or 401 on a long-lived token): a human must re-authorize. */
export class AmoCrmReauthRequiredError extends AmoCrmConnectionStateError {
  constructor(init: AmoCrmErrorInit) {
    super("reauth_required", init, "reauth_required");
  }
}

/** Whether the same request may succeed later without anyone changing anything. */
export function isTransientAmoCrmError(error: unknown): boolean {
  return error instanceof AmoCrmRateLimitError || error instanceof AmoCrmServerError ||
    error instanceof AmoCrmNetworkError;
}

export interface ParsedErrorBody {
  title?: string;
  detail?: string;
  hint?: string;
  type?: string;
  validationErrors?: unknown;
  /** `error_code` (amoCRM's API errors page: e.g. 101, HTTP 401, for a non-existent account). */
  errorCode?: number;
  isHtml: boolean;
}

const MAX_DETAIL_CHARS = 300;

/**
 * Reads an error body: `application/problem+json` (title/detail/status, validation-errors on 400), OAuth errors
 * (`hint`, `message`), or an nginx HTML page (403/429 can be HTML) — whatever the content type claims.
 */
export function parseErrorBody(contentType: string | null, bodyText: string): ParsedErrorBody {
  const text = bodyText.trim();
  const looksHtml = /html/i.test(contentType ?? "") || /^<(!doctype|html|head|body)/i.test(text);
  if (!looksHtml && text.startsWith("{")) {
    try {
      const json = JSON.parse(text) as Record<string, unknown>;
      const str = (v: unknown) => (typeof v === "string" && v.trim() ? v.trim() : undefined);
      return {
        title: str(json.title),
        detail: str(json.detail) ?? str(json.message) ?? str(json.error_description) ?? str(json.hint) ??
          str(json.error),
        hint: str(json.hint),
        type: str(json.type),
        validationErrors: json["validation-errors"],
        errorCode: Number.isSafeInteger(Number(json.error_code)) && json.error_code !== null &&
            json.error_code !== ""
          ? Number(json.error_code)
          : undefined,
        isHtml: false,
      };
    } catch {
      // Not JSON after all: fall through to the plain-text handling.
    }
  }
  if (looksHtml) {
    const title = text.match(/<title[^>]*>([\s\S]*?)<\/title>/i)?.[1];
    const h1 = text.match(/<h1[^>]*>([\s\S]*?)<\/h1>/i)?.[1];
    const clean = (s: string | undefined) =>
      s?.replace(/<[^>]+>/g, "").replace(/\s+/g, " ").trim() || undefined;
    const t = clean(title) ?? clean(h1);
    return { title: t, detail: t ?? "HTML error page", isHtml: true };
  }
  return { detail: text ? text.slice(0, MAX_DETAIL_CHARS) : undefined, isHtml: false };
}

export interface ErrorResponseInfo {
  status: number;
  contentType: string | null;
  bodyText: string;
  endpoint: string;
  method: string;
  connectionId?: string;
}

/** Maps a non-2xx response to the matching error class. */
export function errorFromResponse(info: ErrorResponseInfo): AmoCrmHttpError {
  const body = parseErrorBody(info.contentType, info.bodyText);
  // OAuth errors put the useful part in `hint` ("Token has been revoked"): keep it next to the detail.
  const detail = body.detail && body.hint && body.detail !== body.hint
    ? `${body.detail} (${body.hint})`
    : body.detail;
  const init: AmoCrmErrorInit = {
    status: info.status,
    title: body.title,
    detail: (detail ?? body.title ?? `HTTP ${info.status}`).slice(0, MAX_DETAIL_CHARS),
    endpoint: info.endpoint,
    method: info.method,
    connectionId: info.connectionId,
    validationErrors: body.validationErrors,
    amocrmErrorCode: body.errorCode,
  };
  switch (info.status) {
    case 400:
      return new AmoCrmBadRequestError(init);
    case 401:
      return new AmoCrmUnauthorizedError(init);
    case 402:
      return new AmoCrmPaymentRequiredError(init);
    case 403:
      return new AmoCrmForbiddenError(init);
    case 404:
      return new AmoCrmNotFoundError(init);
    case 429:
      return new AmoCrmRateLimitError(init);
    case 504:
      return new AmoCrmGatewayTimeoutError(init);
  }
  if (info.status >= 500) return new AmoCrmServerError(init);
  return new AmoCrmHttpError(init);
}
