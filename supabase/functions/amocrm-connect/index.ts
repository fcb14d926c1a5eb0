import { operatorSecretsFromEnv } from "../_shared/ops/auth.ts";
import { createConnectHandler } from "./handler.ts";

Deno.serve(createConnectHandler({ secrets: operatorSecretsFromEnv() }));
