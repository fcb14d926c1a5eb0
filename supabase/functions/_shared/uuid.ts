// The one uuid check of the functions: zod's (RFC 9562 text form, any case). A request schema embeds
// uuidField(); code without a schema calls isUuid(). Every entry point thus refuses the same ids.
import { z } from "zod";

const UUID = z.uuid();

/** A zod field for a uuid, with the message a request's problem list shows. */
export function uuidField(error: string) {
  return z.uuid({ error });
}

export function isUuid(value: unknown): value is string {
  return UUID.safeParse(value).success;
}
