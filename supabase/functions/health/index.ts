// Liveness probe: answers without touching the database or amoCRM.
Deno.serve(() => Response.json({ ok: true, service: "amo-roi", at: new Date().toISOString() }));
