import { handler } from "./runtime.ts";

Deno.serve(handler);
