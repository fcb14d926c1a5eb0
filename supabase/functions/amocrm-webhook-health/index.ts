import { operatorSecretsFromEnv } from "../_shared/ops/auth.ts";
import { createWebhookHealthHandler } from "./handler.ts";

Deno.serve(createWebhookHealthHandler({ secrets: operatorSecretsFromEnv() }));
