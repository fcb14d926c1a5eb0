import { operatorSecretsFromEnv } from "../_shared/ops/auth.ts";
import { createRequeueDeadJobsHandler } from "./handler.ts";

Deno.serve(createRequeueDeadJobsHandler({ secrets: operatorSecretsFromEnv() }));
