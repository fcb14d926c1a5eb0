import { operatorSecretsFromEnv } from "../_shared/ops/auth.ts";
import { createQualificationStatsHandler } from "./handler.ts";

Deno.serve(createQualificationStatsHandler({ secrets: operatorSecretsFromEnv() }));
