// The mutants: deliberate faults in the business rules and the access policies, each of which some pgTAP
// suite must notice. `npm run mutants` applies each one to the CURRENT definition of its object (as the
// database holds it after every migration), runs the suites it names, expects a failure, and restores it.
//
// Keeping it current: when you change an object's definition, a mutant whose `find` no longer occurs exactly
// once stops the check as "stale" and names the object and the text. Update `find` (and `replace`) to the new
// definition — the same fault, written against the new text. Keep `find` short but unique within the
// object's definition. Functions are matched against pg_get_functiondef (the body exactly as written in the
// migration); policies, triggers and views against Postgres' own rendering of them (see `definitionOf` in
// run.ts): qualified names, upper-case keywords, extra parentheses.

export type Target =
  /** A function, by its signature as regprocedure reads it. */
  | { kind: "function"; signature: string }
  /** A row-level security policy, rendered as `create policy … using (…) with check (…)`. */
  | { kind: "policy"; table: string; name: string }
  /** A trigger, rendered by pg_get_triggerdef. */
  | { kind: "trigger"; table: string; name: string }
  /** A view, rendered as `create or replace view … as <pg_get_viewdef>`. */
  | { kind: "view"; name: string };

export interface Mutant {
  /** Short, stable name (kebab-case). */
  id: string;
  /** The rule the fault breaks, in plain words. */
  fault: string;
  target: Target;
  /** Text of the current definition to replace; must occur exactly once. */
  find: string;
  replace: string;
  /** pgTAP files (in supabase/tests/database) that must fail with the fault in place. */
  tests: string[];
  /**
   * Deno test files (repository paths) that need only the database (DATABASE_URL), for what pgTAP cannot
   * show, such as races between connections. Run with the pgTAP files; any failure counts.
   */
  denoTests?: string[];
}

export const mutants: Mutant[] = [
  // --- qualification -----------------------------------------------------------------------------------------
  {
    id: "qualify-reached-not-passed",
    fault: "reaching the flagged stage itself no longer qualifies (>= becomes >)",
    target: { kind: "function", signature: "private.stage_qualifies(uuid, integer, integer)" },
    find: "p_status_id) >= (",
    replace: "p_status_id) > (",
    tests: ["apply_lead_events.test.sql"],
  },
  {
    id: "qualify-won-rule-dropped",
    fault: "a won deal (142) qualifies only by stage order",
    target: { kind: "function", signature: "private.stage_qualifies(uuid, integer, integer)" },
    find: "p_status_id = 142\n    or",
    replace: "p_status_id = -142\n    or",
    tests: ["apply_lead_events.test.sql"],
  },
  {
    id: "qualify-lost-passes-stages",
    fault: "lost (143, sorted last) counts as having passed every stage",
    target: { kind: "function", signature: "private.stage_qualifies(uuid, integer, integer)" },
    find: "p_status_id <> 143",
    replace: "p_status_id <> -143",
    tests: ["qualification_a_deal_lost_before_the_flagged_stage_is_not_qualified.test.sql"],
  },
  {
    id: "qualification-not-sticky",
    fault: "is_qualified follows only the current stage: moving back un-qualifies",
    target: { kind: "function", signature: "private.sync_deal_derived_state()" },
    find: "or private.deal_is_qualified(",
    replace: "or false and private.deal_is_qualified(",
    tests: ["apply_lead_events.test.sql"],
  },
  {
    id: "flag-change-not-recomputed",
    fault: "a change of the stage catalog (a flag, a re-sort) recomputes no deal",
    target: { kind: "function", signature: "private.recompute_qualification_after_catalog_change()" },
    find: "  perform private.requalify_after_catalog_change(v_old, v_new);",
    replace: "  perform 1;",
    tests: ["qualification_flag_recomputes_deals_without_history.test.sql", "apply_lead_events.test.sql"],
  },

  // --- deal state ------------------------------------------------------------------------------------------
  {
    id: "newer-wins-guard-removed",
    fault: "any webhook event overwrites the deal's state, however old",
    target: {
      kind: "function",
      signature: "private.apply_lead_event(uuid, text, bigint, bigint, jsonb, timestamptz)",
    },
    find: "if v_is_newer then",
    replace: "if true then",
    tests: ["apply_lead_events.test.sql", "deal_state_an_older_event_never_overwrites_a_newer_one.test.sql"],
  },
  {
    id: "state-ties-not-broken",
    fault: "at equal amoCRM times the last event applied wins, not the deterministic tiebreak",
    target: { kind: "function", signature: "private.is_newer_state(timestamptz, text, timestamptz, text)" },
    find: "or p_at > p_stored_at",
    replace: "or p_at >= p_stored_at",
    tests: ["deal_state_at_equal_times_is_the_same_in_either_order.test.sql"],
  },
  {
    id: "history-key-without-time",
    fault: "a deal entering the same stage twice gets one history row",
    target: {
      kind: "function",
      signature: "private.transition_key(bigint, integer, integer, integer, timestamptz)",
    },
    find: "p_to_status, extract(epoch from p_changed_at)::bigint,",
    replace: "p_to_status,",
    tests: ["apply_order_independence.test.sql", "same_second_changes_are_all_kept.test.sql"],
  },
  {
    id: "deletion-order-guard-removed",
    fault: "an older deletion observation overrides a newer one (a stale read resurrects a deleted deal)",
    target: { kind: "function", signature: "private.observe_deletion(uuid, bigint, boolean, timestamptz)" },
    find: "deletion_seen_at <= p_seen_at",
    replace: "true",
    tests: ["deal_deletion_order.test.sql"],
  },

  {
    id: "snapshot-deletion-ignored",
    fault: "an API read from the trash (is_deleted) does not delete the deal",
    target: {
      kind: "function",
      signature: "private.apply_deal_snapshot(uuid, jsonb, text, text, timestamptz)",
    },
    find: "v_id, v_is_deleted, p_read_at)",
    replace: "v_id, false, p_read_at)",
    tests: ["deal_deletion_order.test.sql"],
  },
  {
    id: "reconcile-counts-everything-healed",
    fault: "reconcile reports every applied snapshot as healed, even when webhooks had delivered it",
    target: {
      kind: "function",
      signature: "private.reconcile_deal_snapshots(uuid, jsonb, jsonb, text, timestamptz)",
    },
    find: "if v_before is distinct from v_after then",
    replace: "if true then",
    tests: ["schedules_reconcile_apply.test.sql"],
  },
  {
    id: "reconcile-watermark-counts-unfinished-runs",
    fault: "an unfinished or failed reconcile run moves the watermark (its unread changes are skipped)",
    target: { kind: "function", signature: "private.reconcile_high_water(uuid)" },
    find: "and r.state = 'done'",
    replace: "and r.state is not null",
    tests: ["schedules_reconcile_apply.test.sql"],
  },
  {
    id: "reconcile-watermark-without-overlap",
    fault: "the watermark has no overlap for same-second writes and clock skew",
    target: { kind: "function", signature: "private.reconcile_watermark(uuid, interval)" },
    find: "hw - extract(epoch from p_overlap)::bigint",
    replace: "hw",
    tests: ["schedules_reconcile_apply.test.sql"],
  },
  {
    id: "events-api-drops-webhook-history",
    fault: "a real transition from the Events API deletes webhook history rows, not only the API's guesses",
    target: { kind: "function", signature: "private.drop_superseded_guesses(uuid, bigint)" },
    find: "and g.source = 'api'",
    replace: "and g.source is not null",
    tests: ["history_events_api_never_removes_a_webhook_transition.test.sql"],
  },
  {
    id: "events-api-qualification-not-recomputed",
    fault: "a transition recovered from the Events API does not recompute the deal's qualification",
    target: { kind: "function", signature: "private.apply_status_change_event(uuid, jsonb)" },
    find: "update public.amocrm_deals set is_qualified = is_qualified\n  where user_account_id",
    replace: "update public.amocrm_deals set is_qualified = is_qualified\n  where false and user_account_id",
    tests: ["schedules_status_change_events.test.sql"],
  },
  {
    id: "money-price-edit-not-confirmed",
    fault: "a price edit on a won deal queues no API confirmation (the sale keeps the old amount)",
    target: {
      kind: "function",
      signature: "private.apply_lead_event(uuid, text, bigint, bigint, jsonb, timestamptz)",
    },
    find:
      "      or v_status = 142 and v_deal.price is distinct from v_price\n      -- A new price known only to the ruble (the webhook's legacy integer): the API read gives the kopecks.\n      or v_price <> 0 and v_deal.price is distinct from v_price and p_payload ->> 'price_with_minor_units' is null",
    replace: "",
    tests: ["deal_money_events_queue_an_api_confirmation.test.sql"],
  },
  {
    id: "money-reopen-not-confirmed",
    fault: "reopening a won deal queues no API confirmation (the sale stays paid)",
    target: {
      kind: "function",
      signature: "private.apply_lead_event(uuid, text, bigint, bigint, jsonb, timestamptz)",
    },
    find: "or v_deal.status_id = 142 and v_status <> 142",
    replace: "or false and v_status <> 142",
    tests: ["deal_money_events_queue_an_api_confirmation.test.sql"],
  },
  {
    id: "money-delete-not-confirmed",
    fault: "deleting a deal that has a sale queues no API confirmation (the sale stays paid)",
    target: {
      kind: "function",
      signature: "private.apply_lead_event(uuid, text, bigint, bigint, jsonb, timestamptz)",
    },
    find: "if exists (select 1 from public.sales where",
    replace: "if false and exists (select 1 from public.sales where",
    tests: ["deal_money_events_queue_an_api_confirmation.test.sql"],
  },
  {
    id: "sale-paid-while-deleted",
    fault: "a deleted won deal keeps a paid sale",
    target: { kind: "function", signature: "private.settle_sale(uuid, bigint)" },
    find: "if v_deal.api_status_id = 142 and not v_deal.is_deleted then",
    replace: "if v_deal.api_status_id = 142 then",
    tests: ["deal_sales_settlement.test.sql", "deal_deletion_order.test.sql"],
  },
  {
    id: "deletion-without-deleted-at",
    fault: "a deletion is stored without its time (deleted_at)",
    target: { kind: "function", signature: "private.observe_deletion(uuid, bigint, boolean, timestamptz)" },
    find: "deleted_at = case when p_is_deleted then p_seen_at end",
    replace: "deleted_at = null",
    tests: ["deal_deletion_order.test.sql"],
  },
  {
    id: "lead-shows-phone-linked-deal-first",
    fault: "a product lead shows the stage of a phone-linked deal instead of the deal created for it",
    target: { kind: "function", signature: "private.refresh_lead_from_deals(bigint)" },
    find: "order by (d.attribution = 'amocrm_lead_id') desc",
    replace: "order by (d.attribution = 'amocrm_lead_id') asc",
    tests: ["lead_shows_the_stage_of_its_own_live_deal.test.sql"],
  },
  {
    id: "lead-shows-deleted-deal",
    fault: "a product lead keeps showing the stage of a deleted deal",
    target: { kind: "function", signature: "private.refresh_lead_from_deals(bigint)" },
    find: "where d.lead_id = p_lead_id and not d.is_deleted",
    replace: "where d.lead_id = p_lead_id",
    tests: ["lead_shows_the_stage_of_its_own_live_deal.test.sql"],
  },
  {
    id: "lead-mirror-ignores-deletion",
    fault: "deleting a deal does not refresh its product lead (the trigger misses is_deleted)",
    target: { kind: "trigger", table: "public.amocrm_deals", name: "mirror_onto_lead" },
    find: ", lead_id, is_deleted ON",
    replace: ", lead_id ON",
    tests: ["lead_shows_the_stage_of_its_own_live_deal.test.sql"],
  },
  {
    id: "lead-qualified-only-if-every-deal-is",
    fault: "a product lead is qualified only when all its deals are, not when any is",
    target: { kind: "function", signature: "private.refresh_lead_from_deals(bigint)" },
    find: "coalesce(bool_or(d.is_qualified), false)",
    replace: "coalesce(bool_and(d.is_qualified), false)",
    tests: ["lead_is_qualified_when_any_of_its_deals_is.test.sql"],
  },
  {
    id: "late-lead-not-linked-by-id",
    fault: "a product lead written after its deal's webhook is not linked to that deal",
    target: { kind: "function", signature: "private.link_lead_to_existing_deals()" },
    find: "d.amocrm_lead_id = new.amocrm_lead_id",
    replace: "false",
    tests: ["apply_lead_events.test.sql"],
  },
  {
    id: "contact-phone-overwrites-other-contact",
    fault: "a contact's phone overwrites the phone of a deal whose main contact is someone else",
    target: { kind: "function", signature: "private.apply_contact_event(uuid, bigint, jsonb)" },
    find: "where public.amocrm_deals.main_contact_id is null or",
    replace: "where true or",
    tests: ["deal_phone_comes_from_its_main_contact_only.test.sql"],
  },
  {
    id: "stage-order-without-tie-break",
    fault:
      "stages with the same sort order are not told apart (a tie with the flagged stage counts as passed)",
    target: { kind: "function", signature: "private.stage_order_key(integer, integer, integer)" },
    find: "p_sort_order, p_status_id]",
    replace: "p_sort_order]",
    tests: ["stage_order_breaks_sort_ties.test.sql"],
  },
  {
    id: "pipeline-sync-resets-flag",
    fault: "a pipeline sync clears the user's qualified flags",
    target: { kind: "function", signature: "private.sync_pipeline_stages(uuid, jsonb)" },
    find: "status_type = excluded.status_type,",
    replace: "status_type = excluded.status_type, is_qualified_stage = false,",
    tests: ["pipeline_sync_keeps_flags.test.sql"],
  },
  {
    id: "pipeline-sync-archives-other-accounts",
    fault: "a pipeline sync of one account archives every other account's stages",
    target: { kind: "function", signature: "private.sync_pipeline_stages(uuid, jsonb)" },
    find: "where user_account_id = p_user_account_id and not is_archived",
    replace: "where not is_archived",
    tests: ["pipeline_sync_touches_only_its_own_account.test.sql"],
  },

  // --- webhook intake ------------------------------------------------------------------------------------------
  {
    id: "dedupe-key-without-content",
    fault:
      "the dedupe key of timed events drops the content hash: a second edit in the same second is dropped",
    target: { kind: "function", signature: "private.expand_webhook_events(bigint)" },
    find: "i.amocrm_ts, md5(i.payload::text))",
    replace: "i.amocrm_ts)",
    tests: ["deal_state_at_equal_times_is_the_same_in_either_order.test.sql"],
  },
  {
    id: "dedupe-key-per-post",
    fault: "the dedupe key of timed events includes the POST: a redelivered event is applied again",
    target: { kind: "function", signature: "private.expand_webhook_events(bigint)" },
    find: "i.amocrm_ts, md5(i.payload::text))",
    replace: "i.amocrm_ts, md5(i.payload::text), v_inbox.id)",
    tests: ["apply_lead_events.test.sql"],
  },
  {
    id: "dedupe-untimed-by-id-only",
    fault: "events without an amoCRM time are deduplicated by lead id alone, not by content",
    target: { kind: "function", signature: "private.expand_webhook_events(bigint)" },
    find: "0, md5(i.payload::text))",
    replace: "0)",
    tests: ["apply_lead_events.test.sql"],
  },
  {
    id: "dedupe-deletes",
    fault: "a delete (no amoCRM time) is deduplicated: delete, restore, delete again loses the second delete",
    target: { kind: "function", signature: "private.expand_webhook_events(bigint)" },
    find: "i.amocrm_id, 'inbox', v_inbox.id)",
    replace: "i.amocrm_id)",
    tests: ["apply_lead_events.test.sql"],
  },
  {
    id: "webhook-key-version-ignored",
    fault: "a webhook signed with a revoked (older) key version is still stored",
    target: {
      kind: "function",
      signature: "private.receive_webhook_if_connected(uuid, integer, text, text, text, text, jsonb, text)",
    },
    find: "c.webhook_key_version <= p_key_version",
    replace: "true",
    tests: ["webhook_intake_refuses_a_revoked_key_version.test.sql"],
  },
  {
    id: "webhook-claimed-account-ignored",
    fault: "a webhook whose body claims another amoCRM account is still stored",
    target: { kind: "function", signature: "private.webhook_account_mismatch(bigint, text, text, text)" },
    find: "when p_claimed_account_id is not null and p_connection_account_id is not null",
    replace: "when false",
    tests: ["webhook_intake_refuses_a_body_claiming_another_account.test.sql"],
  },
  {
    id: "webhook-claimed-subdomain-ignored",
    fault: "a webhook whose body claims another subdomain is still stored",
    target: { kind: "function", signature: "private.webhook_account_mismatch(bigint, text, text, text)" },
    find:
      "when p_claimed_subdomain is not null and lower(p_claimed_subdomain) <> lower(p_connection_subdomain)",
    replace: "when false",
    tests: ["webhook_intake_refuses_a_body_claiming_another_account.test.sql"],
  },
  {
    id: "apply-confirmation-job-written-mid-batch",
    fault:
      "a batch queues its confirmation job when the event applies, holding the job row while it waits for later deals",
    target: { kind: "function", signature: "private.enqueue_deal_confirmation(uuid, bigint)" },
    find: "if private.apply_depth() > 0 then",
    replace: "if false then",
    tests: [],
    denoTests: ["tests/integration/webhook/apply_lock_order.test.ts"],
  },
  {
    id: "apply-rollup-bumped-mid-batch",
    fault:
      "a batch bumps the funnel rollup rows when the event applies, holding them while it waits for later deals",
    target: {
      kind: "function",
      signature:
        "private.analytics_bump(uuid, uuid, uuid, date, integer, integer, integer, integer, numeric, integer, numeric)",
    },
    find: "if private.apply_depth() > 0 then",
    replace: "if false then",
    tests: [],
    denoTests: ["tests/integration/webhook/apply_lock_order.test.ts"],
  },
  {
    id: "apply-deals-not-waited-for-up-front",
    fault:
      "a batch only tries its deals' locks up front, so an event whose deal is busy fails instead of waiting",
    target: { kind: "function", signature: "private.lock_deals(uuid[], bigint[])" },
    find: "perform pg_advisory_xact_lock(v_key);",
    replace: "perform pg_try_advisory_xact_lock(v_key);",
    tests: [],
    denoTests: ["tests/integration/webhook/apply_lock_order.test.ts"],
  },

  // --- money -----------------------------------------------------------------------------------------------
  {
    id: "sale-pending-cancelled-swapped",
    fault: "a reopened sale is cancelled and a lost one pending",
    target: { kind: "function", signature: "private.settle_sale(uuid, bigint)" },
    find: "then 'cancelled' else 'pending'",
    replace: "then 'pending' else 'cancelled'",
    tests: ["deal_sales_settlement.test.sql"],
  },
  {
    id: "sale-price-ignored",
    fault: "a paid sale is booked at 0 instead of the deal's price",
    target: { kind: "function", signature: "private.settle_sale(uuid, bigint)" },
    find: "v_deal.api_pipeline_id, v_deal.api_status_id, coalesce(v_deal.api_price, 0),",
    replace: "v_deal.api_pipeline_id, v_deal.api_status_id, 0,",
    tests: ["deal_sales_settlement.test.sql"],
  },
  {
    id: "purchase-kept-after-unpaid",
    fault: "a sale that stops being paid keeps its purchase row",
    target: { kind: "function", signature: "private.settle_sale(uuid, bigint)" },
    find: "delete from public.purchases where user_account_id",
    replace: "delete from public.purchases where false and user_account_id",
    tests: ["deal_sales_settlement.test.sql"],
  },

  // --- attribution -----------------------------------------------------------------------------------------
  {
    id: "phone-international-00-prefix-ignored",
    fault: "a number written with the international prefix 00 (0079…) is read as a national one",
    target: { kind: "function", signature: "private.normalize_phone(text, text)" },
    find: "|| '|00)', '')",
    replace: "|| ')', '')",
    tests: ["phone_normalization.test.sql"],
  },
  {
    id: "phone-extension-kept",
    fault: "an extension (доб. 123, ext. 15) stays in the number",
    target: { kind: "function", signature: "private.normalize_phone(text, text)" },
    find: "    v_text := regexp_replace(v_text, '(?:' || c_ext || ')$', '', 'i');",
    replace: "    null;",
    tests: ["phone_normalization.test.sql"],
  },
  {
    id: "link-by-phone-picks-oldest-lead",
    fault: "a phone-matched deal goes to the oldest product lead with that phone, not the newest before it",
    target: { kind: "function", signature: "private.link_deal_to_lead(uuid, bigint)" },
    find: "order by l.created_at desc, l.id desc",
    replace: "order by l.created_at, l.id",
    tests: ["deal_link_by_phone_picks_the_newest_lead_created_before_the_deal.test.sql"],
  },
  {
    id: "link-by-phone-ignores-deal-time",
    fault: "a phone-matched deal goes to the newest lead even if it was created after the deal",
    target: { kind: "function", signature: "private.link_deal_to_lead(uuid, bigint)" },
    find: "      and l.created_at <= v_deal.amocrm_created_at\n",
    replace: "",
    tests: ["deal_link_by_phone_picks_the_newest_lead_created_before_the_deal.test.sql"],
  },

  // --- job queue and rate limit ---------------------------------------------------------------------------
  {
    id: "job-merge-drops-ids",
    fault: "merging into a queued job keeps only the ids it already had",
    target: { kind: "function", signature: "private.enqueue_job(text, uuid, jsonb, text, timestamptz)" },
    find: "(j.payload -> 'ids') || (p_payload -> 'ids')",
    replace: "(j.payload -> 'ids')",
    tests: ["job_queue.test.sql"],
  },
  {
    id: "job-merge-race-loses-ids",
    fault: "an enqueue whose queued job was claimed between insert and merge gives up (its ids are lost)",
    target: { kind: "function", signature: "private.enqueue_job(text, uuid, jsonb, text, timestamptz)" },
    find: "    exit when v_id is not null;\n    -- Claimed between",
    replace: "    exit;\n    -- Claimed between",
    tests: [],
    denoTests: ["tests/integration/jobs/enqueue_claim_race.test.ts"],
  },
  {
    id: "blocked-account-jobs-claimed",
    fault: "jobs of an account amoCRM blocked (breaker open) are claimed and spend their attempts",
    target: { kind: "function", signature: "private.claim_jobs(text[], integer, text, integer)" },
    find: "and (c.kind = 'breaker_probe' or not exists (",
    replace: "and (true or not exists (",
    tests: ["job_queue_waits_out_a_blocked_account.test.sql"],
  },
  {
    id: "deferred-job-spends-an-attempt",
    fault: "a job deferred by the open breaker keeps the attempt its claim took",
    target: { kind: "function", signature: "private.defer_job(bigint, text, text)" },
    find: "attempts = greatest(attempts - 1, 0)",
    replace: "attempts = attempts",
    tests: ["job_queue_waits_out_a_blocked_account.test.sql"],
  },
  {
    id: "heartbeat-renews-nothing",
    fault: "a live worker's heartbeat does not renew its locks (a long job is handed to a second worker)",
    target: { kind: "function", signature: "private.heartbeat_jobs(bigint[], text)" },
    find: "set locked_at = now()",
    replace: "set locked_at = locked_at",
    tests: [],
    denoTests: ["tests/integration/jobs/job_locks_follow_the_worker.test.ts"],
  },
  {
    id: "job-dead-one-attempt-late",
    fault: "a job gets one attempt more than max_attempts",
    target: { kind: "function", signature: "private.fail_job(bigint, text, text)" },
    find: "case when attempts >= max_attempts then 'dead'",
    replace: "case when attempts > max_attempts then 'dead'",
    tests: ["job_queue.test.sql"],
  },
  {
    id: "rate-bucket-grants-below-one-token",
    fault: "the rate bucket grants a call with less than one whole token (more calls than the limit)",
    target: {
      kind: "function",
      signature: "private.amocrm_take_rate_token(text, double precision, double precision)",
    },
    find: "if v_tokens >= 1 then",
    replace: "if v_tokens >= 0 then",
    tests: ["amocrm_client_rate_bucket.test.sql"],
  },
  {
    id: "rate-bucket-uncapped",
    fault: "the rate bucket refills without its capacity cap (bursts above the limit)",
    target: {
      kind: "function",
      signature: "private.amocrm_take_rate_token(text, double precision, double precision)",
    },
    find: "v_tokens := least(",
    replace: "v_tokens := greatest(",
    tests: ["amocrm_client_rate_bucket.test.sql"],
  },
  {
    id: "breaker-cooldown-ignored",
    fault: "an open circuit breaker lets calls through before its cool-down ends",
    target: {
      kind: "function",
      signature: "private.amocrm_begin_call(uuid, text, double precision, interval)",
    },
    find: "v_conn.breaker_cooldown_until > now())",
    replace: "v_conn.breaker_cooldown_until < now())",
    tests: ["amocrm_client_gate.test.sql"],
  },

  {
    id: "job-lock-never-expires",
    fault: "a job whose worker died (lock expired) is never claimed again",
    target: { kind: "function", signature: "private.claim_jobs(text[], integer, text, integer)" },
    find: "or (c.state = 'running' and c.locked_at < now()",
    replace: "or (false and c.locked_at < now()",
    tests: ["job_queue_reclaims_a_job_whose_worker_died.test.sql"],
  },
  {
    id: "job-backoff-removed",
    fault: "a failed job is retried at once, without backoff",
    target: { kind: "function", signature: "private.fail_job(bigint, text, text)" },
    find: "run_after = now() + make_interval(",
    replace: "run_after = now() - 0 * make_interval(",
    tests: ["job_queue.test.sql"],
  },
  {
    id: "rate-pause-ignored",
    fault: "after a 429 the shared bucket is not emptied (other instances keep calling)",
    target: { kind: "function", signature: "private.amocrm_pause_rate_bucket(uuid, integer)" },
    find: "1 - v_rate * p_pause_ms / 1000.0",
    replace: "1",
    tests: ["amocrm_client_rate_bucket.test.sql"],
  },
  {
    id: "gate-ignores-connection-state",
    fault: "a connection that needs re-authorisation still makes API calls",
    target: {
      kind: "function",
      signature: "private.amocrm_begin_call(uuid, text, double precision, interval)",
    },
    find: "p_purpose in ('api', 'refresh') and v_conn.state <> 'active'",
    replace: "p_purpose in ('api', 'refresh') and false",
    tests: ["amocrm_client_gate.test.sql"],
  },

  // --- analytics rollups -------------------------------------------------------------------------------------
  {
    id: "rollup-unpaid-sale-wrong-sign",
    fault: "a sale that stops being paid adds a paid sale to its lead instead of removing one",
    target: { kind: "function", signature: "private.analytics_sale_changed()" },
    find: "(v_old_lead, -1,",
    replace: "(v_old_lead, 1,",
    tests: ["analytics_rollup_consistency.test.sql"],
  },
  {
    id: "rollup-moved-lead-not-removed",
    fault: "a lead moved to another creative is counted in both rollup rows",
    target: { kind: "function", signature: "private.analytics_lead_changed()" },
    find: "-1, -v_old_q, 0, 0, 0, 0, 0);",
    replace: "0, -v_old_q, 0, 0, 0, 0, 0);",
    tests: ["analytics_rollup_consistency.test.sql"],
  },
  {
    id: "rollup-qualification-flip-ignored",
    fault: "the rollup trigger no longer fires when only is_qualified changes (the webhook path)",
    target: { kind: "trigger", table: "public.leads", name: "analytics_lead_changed" },
    find: "(old.is_qualified IS DISTINCT FROM new.is_qualified) OR ",
    replace: "",
    tests: ["analytics_rollup_consistency.test.sql"],
  },
  {
    id: "roi-formula-inverted",
    fault: "ROI computed as (spend - revenue) / spend",
    target: { kind: "function", signature: "private.roi_percent(numeric, numeric)" },
    find: "(coalesce(p_revenue, 0) - p_spend)",
    replace: "(p_spend - coalesce(p_revenue, 0))",
    tests: ["analytics_metrics.test.sql"],
  },
  {
    id: "unattributed-revenue-includes-attributed",
    fault: "the unattributed-revenue view lists paid sales that do have a lead",
    target: { kind: "view", name: "public.unattributed_revenue" },
    find: "(s.lead_id IS NULL)",
    replace: "(s.lead_id IS NULL OR true)",
    tests: ["analytics_metrics.test.sql"],
  },

  {
    id: "rollup-inserted-qualified-leads-not-counted",
    fault: "leads inserted already qualified are not counted as qualified in the rollup",
    target: { kind: "function", signature: "private.analytics_leads_inserted()" },
    find: "(count(*) filter (where n.is_qualified))::integer",
    replace: "0",
    tests: ["analytics_rollup_consistency.test.sql"],
  },
  {
    id: "rollup-conversion-never-flips-back",
    fault: "a lead whose last paid sale goes still counts as converted",
    target: {
      kind: "function",
      signature: "private.analytics_apply_lead_money(bigint, integer, numeric, integer, numeric)",
    },
    find: " - (v_booked.paid_sales - p_paid_sales > 0)::integer,",
    replace: " - 0,",
    tests: ["analytics_rollup_consistency.test.sql"],
  },
  {
    id: "rollup-deleted-spend-wrong-sign",
    fault: "deleting or editing spend adds the old amount instead of removing it",
    target: { kind: "function", signature: "private.analytics_spend_changed()" },
    find: "-old.amount, -1)",
    replace: "old.amount, -1)",
    tests: ["analytics_rollup_consistency.test.sql"],
  },
  {
    id: "repeat-revenue-credits-purchases-before-the-lead",
    fault: "a product purchase made before every lead with its phone is credited as the ad's repeat revenue",
    target: { kind: "function", signature: "private.analytics_recompute_phones(uuid[], text[])" },
    find: "and l.created_at <= coalesce(pu.purchase_date, 'infinity'::timestamptz)",
    replace: "",
    tests: ["analytics_rollup_consistency.test.sql", "analytics_metrics.test.sql"],
  },
  {
    id: "conversion-rate-over-all-leads",
    fault: "conversion_rate divides by all leads instead of qualified leads (the requirements' definition)",
    target: { kind: "function", signature: "public.creative_funnel(uuid, date, date, uuid, text)" },
    find: "private.percent_of(c.conversions, c.qualified_leads)",
    replace: "private.percent_of(c.conversions, c.leads)",
    tests: ["analytics_metrics.test.sql"],
  },
  {
    id: "cost-per-lead-inverted",
    fault: "cost per unit computed as units / spend",
    target: { kind: "function", signature: "private.cost_per(numeric, numeric)" },
    find: "round(p_spend / p_units, 2)",
    replace: "round(p_units / p_spend, 2)",
    tests: ["analytics_metrics.test.sql"],
  },

  // --- stage rollups ----------------------------------------------------------------------------------------
  {
    id: "stage-fold-keeps-old-contribution",
    fault: "the fold adds a lead's new contribution without taking back the one the rollups hold",
    target: { kind: "function", signature: "private.analytics_stage_apply(bigint[])" },
    find: "s.day, p.*, -1",
    replace: "s.day, p.*, 0",
    tests: ["analytics_stage_rollups.test.sql"],
  },
  {
    id: "stage-reads-ignore-unfolded",
    fault: "the tiles read the rollup rows only, so a change is invisible until the fold runs",
    target: { kind: "function", signature: "private.stage_pending_parts(uuid)" },
    find: "where c.user_account_id = p_user_account_id",
    replace: "where false",
    tests: ["analytics_stage_rollups.test.sql"],
  },
  {
    id: "stage-lost-counts-as-furthest",
    fault: "lost (143, sorted last) becomes a lead's furthest stage, as if it passed every open stage",
    target: { kind: "function", signature: "private.analytics_stage_contributions(bigint[])" },
    find: "where v.status_id <> 143",
    replace: "where v.status_id <> -143",
    tests: ["analytics_stage_rollups.test.sql", "analytics_stage_funnel.test.sql"],
  },
  {
    id: "stage-history-delete-unmarked",
    fault: "deleting a history row does not mark its lead, so the rollups keep the deleted visit",
    target: { kind: "function", signature: "private.analytics_stage_mark_history()" },
    find: "if tg_op <> 'INSERT' and old.lead_id is not null",
    replace: "if tg_op = 'UPDATE' and old.lead_id is not null",
    tests: ["analytics_stage_rollups.test.sql"],
  },
  {
    id: "stage-catalog-resort-unmarked",
    fault: "moving a stage in stage order does not refold the account's leads (furthest stage goes stale)",
    target: { kind: "function", signature: "private.analytics_stage_mark_catalog()" },
    find: "o.status_id, o.sort_order, o.status_type",
    replace: "o.status_id, n.sort_order, o.status_type",
    tests: ["analytics_stage_rollups.test.sql"],
  },
  // --- access (RLS) ----------------------------------------------------------------------------------------
  {
    id: "rls-membership-helper-answers-for-all",
    fault: "private.my_user_account_ids() returns every account, not the caller's",
    target: { kind: "function", signature: "private.my_user_account_ids()" },
    find: "where m.user_id = (select auth.uid())",
    replace: "where true",
    tests: ["rls_member_isolation.test.sql"],
  },
  {
    id: "rls-leads-select-no-membership",
    fault: "public.leads: any signed-in user reads every account's leads",
    target: { kind: "policy", table: "public.leads", name: "members select" },
    find: "using ((user_account_id IN",
    replace: "using ((true OR user_account_id IN",
    tests: ["rls_member_isolation.test.sql"],
  },
  {
    id: "rls-directions-rename-no-membership",
    fault: "public.directions: a member's rename reaches another account's directions",
    target: { kind: "policy", table: "public.directions", name: "members update" },
    find: "using ((user_account_id IN",
    replace: "using ((true OR user_account_id IN",
    tests: ["rls_member_isolation.test.sql"],
  },
  {
    id: "service-check-trusts-everyone",
    fault:
      "private.caller_is_service: every caller counts as the service (connection status of every tenant)",
    target: { kind: "function", signature: "private.caller_is_service()" },
    find: "in ('service_role', 'postgres', 'supabase_admin')",
    replace: "is not null",
    tests: ["tenant_isolation/signed_in_users_see_only_their_own_connection_status.test.sql"],
  },
  {
    id: "rls-stages-update-no-membership",
    fault: "amocrm_pipeline_stages: a member flips the qualified flag of another account's stage",
    target: { kind: "policy", table: "public.amocrm_pipeline_stages", name: "members update" },
    find: "using ((user_account_id IN",
    replace: "using ((true OR user_account_id IN",
    tests: ["rls_member_isolation.test.sql"],
  },
  {
    id: "rls-rollup-totals-no-membership",
    fault: "the all-time funnel rollup is readable across accounts",
    target: { kind: "policy", table: "private.analytics_lead_totals", name: "members select" },
    find: "using ((user_account_id IN",
    replace: "using ((true OR user_account_id IN",
    tests: ["analytics_isolation.test.sql"],
  },
  {
    id: "rls-history-select-no-membership",
    fault: "amocrm_lead_status_history: any signed-in user reads every account's history",
    target: { kind: "policy", table: "public.amocrm_lead_status_history", name: "members select" },
    find: "using ((user_account_id IN",
    replace: "using ((true OR user_account_id IN",
    tests: ["rls_member_isolation.test.sql"],
  },
  {
    id: "rls-memberships-select-no-membership",
    fault: "user_account_members: a user reads the memberships of every account",
    target: { kind: "policy", table: "public.user_account_members", name: "members select" },
    find: "using ((user_account_id IN",
    replace: "using ((true OR user_account_id IN",
    tests: ["rls_member_isolation.test.sql"],
  },
  {
    id: "sale-booked-to-another-accounts-lead",
    fault:
      "a sale's money is booked to a lead of another account (the rollup trigger's own-account check gone)",
    target: { kind: "function", signature: "private.analytics_sale_changed()" },
    find: "l.id = v_new_lead and l.user_account_id = new.user_account_id",
    replace: "l.id = v_new_lead",
    tests: ["tenant_isolation/members_cannot_book_money_to_another_account.test.sql"],
  },
  {
    id: "rls-deals-select-no-membership",
    fault: "amocrm_deals: any signed-in user reads every account's deals",
    target: { kind: "policy", table: "public.amocrm_deals", name: "members select" },
    find: "using ((user_account_id IN",
    replace: "using ((true OR user_account_id IN",
    tests: ["rls_member_isolation.test.sql"],
  },
];
