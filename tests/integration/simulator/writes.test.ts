// @ts-types="@types/qs"
import qs from "qs";
import assert from "node:assert/strict";
import { apiSend, getJson, simWithAccount, startReceiver } from "./helpers.ts";

Deno.test("API writes: POST contacts/leads, PATCH leads in bulk → one webhook POST marked as API (user 0)", async () => {
  const { sim, base, token } = await simWithAccount();
  const receiver = startReceiver();
  try {
    await apiSend(base, token, "POST", "/api/v4/webhooks", {
      destination: receiver.url,
      settings: ["add_lead", "status_lead"],
    });
    const contacts = await apiSend(base, token, "POST", "/api/v4/contacts", [{
      name: "Пётр",
      custom_fields_values: [{
        field_code: "PHONE",
        values: [{ value: "+7 912 345-67-89", enum_code: "WORK" }],
      }],
    }]);
    const contactId =
      (contacts.body as { _embedded: { contacts: { id: number }[] } })._embedded.contacts[0].id;
    const created = await apiSend(base, token, "POST", "/api/v4/leads", [
      { name: "site lead", price: 100, _embedded: { contacts: [{ id: contactId }] } },
      { name: "second" },
    ]);
    assert.equal(created.status, 200);
    const ids = (created.body as { _embedded: { leads: { id: number; request_id: string }[] } })._embedded
      .leads.map((l) => l.id);
    assert.equal(ids.length, 2);
    const lead = await getJson(base, token, `/api/v4/leads/${ids[0]}?with=contacts`);
    assert.deepEqual(
      (lead.body as { _embedded: { contacts: { id: number }[] } })._embedded.contacts.map((c) => c.id),
      [contactId],
    );

    const patched = await apiSend(
      base,
      token,
      "PATCH",
      "/api/v4/leads",
      ids.map((id) => ({ id, status_id: 142, price: 777 })),
    );
    assert.equal(patched.status, 200);
    const one = await apiSend(base, token, "PATCH", `/api/v4/leads/${ids[0]}`, { name: "renamed" });
    assert.equal((one.body as { id: number }).id, ids[0]);
    const bad = await apiSend(base, token, "PATCH", `/api/v4/leads/${ids[0]}`, { status_id: 5 });
    assert.equal(bad.status, 400);

    await sim.flushWebhooks();
    assert.equal(receiver.received.length, 2, "one POST for the created pair, one for the bulk patch");
    const body = qs.parse(receiver.received[1].body, { depth: 10 }) as unknown as {
      leads: { status: { id: string; status_id: string; price: string; modified_user_id: string }[] };
    };
    assert.deepEqual(
      body.leads.status.map((entity) => [entity.status_id, entity.price, entity.modified_user_id]),
      [
        ["142", "777", "0"],
        ["142", "777", "0"],
      ],
    );
    assert.equal(sim.getLead("acme", ids[0])?.name, "renamed");
  } finally {
    await sim.stop();
    await receiver.stop();
  }
});
