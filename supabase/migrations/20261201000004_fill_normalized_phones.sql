-- Hand-written data fill (a diff cannot express it). The normalized phone columns (leads.phone_e164,
-- sales.client_phone_e164, purchases.client_phone_e164) are kept by private.normalize_row_phones in the
-- account's default country; rows the product wrote before amo-roi have none yet. Re-reading every stored
-- phone through its trigger fills them (and links deals through the leads' link trigger). Runs before the
-- analytics fill, which credits purchases by phone. Re-running changes nothing.
update public.leads set phone = phone where phone_e164 is null and (phone is not null or chat_id is not null);
update public.sales set client_phone = client_phone where client_phone_e164 is null and client_phone is not null;
update public.purchases set client_phone = client_phone where client_phone_e164 is null and client_phone is not null;
