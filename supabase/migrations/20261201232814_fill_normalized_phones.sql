-- Hand-written data fill (a diff cannot express it); it must run after the migration that turns the
-- normalized phone columns (leads.phone_e164, sales.client_phone_e164, purchases.client_phone_e164) from
-- generated columns into columns kept by private.normalize_row_phones in the account's default country: that
-- migration re-creates them empty. Re-reading every stored phone through its trigger fills them (and links
-- deals through the leads' link trigger); the analytics rollups are then rebuilt from the rows, as the
-- first fill does. Re-running changes nothing.
update public.leads set phone = phone where phone_e164 is null and (phone is not null or chat_id is not null);
update public.sales set client_phone = client_phone where client_phone_e164 is null and client_phone is not null;
update public.purchases set client_phone = client_phone where client_phone_e164 is null and client_phone is not null;
select private.analytics_rebuild(a.id) from public.user_accounts a;
