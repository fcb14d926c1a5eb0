import { operatorSecretsFromEnv } from "../_shared/ops/auth.ts";
import { createWorkerHandler } from "./handler.ts";

Deno.serve(createWorkerHandler({ secrets: operatorSecretsFromEnv() }));
