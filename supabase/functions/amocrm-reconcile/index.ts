import { operatorSecretsFromEnv } from "../_shared/ops/auth.ts";
import { createReconcileHandler } from "./handler.ts";

Deno.serve(createReconcileHandler({ secrets: operatorSecretsFromEnv() }));
