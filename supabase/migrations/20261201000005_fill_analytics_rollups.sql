-- Hand-written data fill: build the analytics rollups (supabase/schemas/031x_analytics_*) from the rows the
-- product already has (leads, sales, purchases, ad spend written before amo-roi). A no-op on an empty database;
-- re-running recomputes the same numbers.
select private.analytics_rebuild(a.id) from public.user_accounts a;
