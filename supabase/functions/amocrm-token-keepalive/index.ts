import { operatorSecretsFromEnv } from "../_shared/ops/auth.ts";
import { createKeepAliveHandler } from "./handler.ts";

Deno.serve(createKeepAliveHandler({ secrets: operatorSecretsFromEnv() }));
