-- Hand-written data fill: build the sale-date rollup (supabase/schemas/0316_analytics_sale_date_rollup.sql) from
-- the paid sales the database already has, by rebuilding every account's analytics (which also books leads on
-- local days of the account's zone). A no-op on an empty database; re-running recomputes the same numbers.
select private.analytics_rebuild(a.id) from public.user_accounts a;
