-- Data fill (hand-written: a schema diff cannot express it). History rows are keyed by
-- private.transition_key — deal, target pipeline and status, amoCRM second, and now the from status, so two
-- different moves within one second are two rows. Rows written before carry the old key (without the from
-- status); rewritten here to the new form, so a re-report of an old transition (Events API, reconcile) finds
-- its row instead of adding a second one. The old keys were unique per (deal, target, second), so the new
-- ones are too. Written out inline (not calling the function) so it does not depend on migration order.
update public.amocrm_lead_status_history
set event_key = concat_ws(':', amocrm_lead_id, to_pipeline_id, to_status_id, extract(epoch from changed_at)::bigint,
  coalesce(from_status_id::text, ''))
where event_key is not null
  and event_key is distinct from concat_ws(':', amocrm_lead_id, to_pipeline_id, to_status_id,
    extract(epoch from changed_at)::bigint, coalesce(from_status_id::text, ''));
