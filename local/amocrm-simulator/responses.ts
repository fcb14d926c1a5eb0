/** The response shapes amoCRM uses on the wire. */

export function hal(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/hal+json" },
  });
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** 204 with an empty body: amoCRM's answer for an empty list or a missing entity. */
export function noContent(): Response {
  return new Response(null, { status: 204 });
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

export function problem(status: number, detail: string, extra: Record<string, unknown> = {}): Response {
  const body = {
    title: TITLES[status] ?? "Error",
    type: `https://httpstatus.es/${status}`,
    status,
    detail,
    ...extra,
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/problem+json" },
  });
}

/** The bare nginx error page amoCRM's edge returns for 403/429/5xx. */
export function nginxHtml(status: number): Response {
  const title = `${status} ${TITLES[status] ?? "Error"}`;
  const body =
    `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n` +
    `<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
  return new Response(body, { status, headers: { "content-type": "text/html", server: "nginx" } });
}
