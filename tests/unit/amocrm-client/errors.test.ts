import assert from "node:assert/strict";
import {
  AmoCrmBadRequestError,
  AmoCrmError,
  AmoCrmForbiddenError,
  AmoCrmGatewayTimeoutError,
  AmoCrmHttpError,
  AmoCrmPaymentRequiredError,
  AmoCrmRateLimitError,
  AmoCrmServerError,
  AmoCrmUnauthorizedError,
  errorFromResponse,
  isTransientAmoCrmError,
  parseErrorBody,
} from "../../../supabase/functions/_shared/amocrm/errors.ts";

const where = { endpoint: "/api/v4/leads", method: "GET", connectionId: "c1" };

Deno.test("problem+json body gives title, detail and validation errors", () => {
  const body = JSON.stringify({
    title: "Bad Request",
    type: "https://httpstatus.es/400",
    status: 400,
    detail: "Request validation failed",
    "validation-errors": [{ request_id: "0", errors: [{ code: "NotSupportedChoice", path: "with" }] }],
  });
  const error = errorFromResponse({
    ...where,
    status: 400,
    contentType: "application/problem+json",
    bodyText: body,
  });
  assert.ok(error instanceof AmoCrmBadRequestError);
  assert.ok(error instanceof AmoCrmHttpError && error instanceof AmoCrmError);
  assert.equal(error.status, 400);
  assert.equal(error.detail, "Request validation failed");
  assert.equal(error.title, "Bad Request");
  assert.equal(error.endpoint, "/api/v4/leads");
  assert.equal(error.connectionId, "c1");
  assert.deepEqual((error.validationErrors as unknown[]).length, 1);
  assert.match(error.message, /400.*Request validation failed.*GET \/api\/v4\/leads/);
});

Deno.test("an nginx HTML 403 becomes AmoCrmForbiddenError with the page title as detail", () => {
  const html =
    "<html><head><title>403 Forbidden</title></head><body><center><h1>403 Forbidden</h1></center>" +
    "<hr><center>nginx</center></body></html>";
  const error = errorFromResponse({ ...where, status: 403, contentType: "text/html", bodyText: html });
  assert.ok(error instanceof AmoCrmForbiddenError);
  assert.equal(error.detail, "403 Forbidden");
  const parsed = parseErrorBody("text/html; charset=utf-8", html);
  assert.equal(parsed.isHtml, true);
});

Deno.test("HTML is recognised even when the content type claims JSON", () => {
  const parsed = parseErrorBody("application/json", "<!DOCTYPE html><html><title>Too Many</title></html>");
  assert.equal(parsed.isHtml, true);
  assert.equal(parsed.title, "Too Many");
});

Deno.test("the OAuth revoked hint is kept", () => {
  const body = JSON.stringify({ hint: "Token has been revoked", title: "Unauthorized", status: 401 });
  const error = errorFromResponse({ ...where, status: 401, contentType: "application/json", bodyText: body });
  assert.ok(error instanceof AmoCrmUnauthorizedError);
  assert.equal(error.detail, "Token has been revoked");
  assert.equal(parseErrorBody("application/json", body).hint, "Token has been revoked");
  const both = JSON.stringify({ detail: "The refresh token is invalid.", hint: "Token has been revoked" });
  assert.equal(
    errorFromResponse({ ...where, status: 401, contentType: "application/json", bodyText: both }).detail,
    "The refresh token is invalid. (Token has been revoked)",
  );
});

Deno.test("statuses map to their classes; empty and plain bodies still give a detail", () => {
  const of = (status: number, bodyText = "") =>
    errorFromResponse({ ...where, status, contentType: null, bodyText });
  assert.ok(of(402) instanceof AmoCrmPaymentRequiredError);
  assert.ok(of(429) instanceof AmoCrmRateLimitError);
  assert.ok(of(504) instanceof AmoCrmGatewayTimeoutError);
  assert.ok(of(504) instanceof AmoCrmServerError);
  assert.ok(of(502, "bad gateway") instanceof AmoCrmServerError);
  assert.equal(of(502, "bad gateway").detail, "bad gateway");
  assert.equal(of(418).detail, "HTTP 418");
  assert.equal(of(418).code, "http_error");
  assert.equal(of(429).code, "rate_limited");
});

Deno.test("transient errors are the retryable ones", () => {
  const of = (status: number) => errorFromResponse({ ...where, status, contentType: null, bodyText: "" });
  assert.equal(isTransientAmoCrmError(of(429)), true);
  assert.equal(isTransientAmoCrmError(of(503)), true);
  assert.equal(isTransientAmoCrmError(of(403)), false);
  assert.equal(isTransientAmoCrmError(of(400)), false);
});

Deno.test("amoCRM's own error code is kept: 401 with 101 is 'no such account'", () => {
  // amoCRM's API errors page: 101, HTTP 401, a request to a non-existent account (subdomain).
  const error = errorFromResponse({
    ...where,
    status: 401,
    contentType: "application/problem+json",
    bodyText: JSON.stringify({
      title: "Unauthorized",
      status: 401,
      detail: "Account not found",
      error_code: 101,
    }),
  });
  assert.ok(error instanceof AmoCrmUnauthorizedError);
  assert.equal(error.amocrmErrorCode, 101);
  const asText = errorFromResponse({
    ...where,
    status: 401,
    contentType: "application/json",
    bodyText: '{"error_code":"101"}',
  });
  assert.equal(asText.amocrmErrorCode, 101);
  const none = errorFromResponse({ ...where, status: 401, contentType: "application/json", bodyText: "{}" });
  assert.equal(none.amocrmErrorCode, undefined);
});
