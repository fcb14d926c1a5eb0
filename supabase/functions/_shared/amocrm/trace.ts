// The trace every call leaves: a structured log line and (cheaply) a row in amocrm.api_calls.
import type { AmoCrmContext } from "./deps.ts";
import { AmoCrmError } from "./errors.ts";
import { type ApiCallTrace, recordApiCall } from "./store.ts";

export type CallTrace = Omit<ApiCallTrace, "connectionId" | "errorKind" | "errorMessage"> & {
  error?: unknown;
};

export async function traceCall(ctx: AmoCrmContext, call: CallTrace): Promise<void> {
  const { error, ...rest } = call;
  const errorKind = error === undefined ? null : error instanceof Error ? error.name : "Error";
  const errorMessage = error === undefined
    ? null
    : (error instanceof AmoCrmError ? error.detail : error instanceof Error ? error.message : String(error))
      .slice(
        0,
        500,
      );
  const entry: ApiCallTrace = { ...rest, connectionId: ctx.connectionId, errorKind, errorMessage };
  ctx.deps.log({
    level: error === undefined ? "info" : "warn",
    msg: "amocrm.api_call",
    connection_id: entry.connectionId,
    amocrm_account_id: entry.amocrmAccountId,
    method: entry.method,
    endpoint: entry.endpoint,
    status: entry.status,
    duration_ms: Math.round(entry.durationMs),
    retries: entry.retries,
    error_kind: errorKind,
    error: errorMessage,
  });
  if (!ctx.options.traceCalls) return;
  try {
    await recordApiCall(ctx.deps.sql, entry);
  } catch (cause) {
    // A lost trace must never fail the call it describes.
    ctx.deps.log({ level: "error", msg: "amocrm.api_call.trace_failed", error: String(cause) });
  }
}
