import { operatorSecretsFromEnv } from "../_shared/ops/auth.ts";
import { createSyncPipelinesHandler } from "./handler.ts";

Deno.serve(createSyncPipelinesHandler({ secrets: operatorSecretsFromEnv() }));
