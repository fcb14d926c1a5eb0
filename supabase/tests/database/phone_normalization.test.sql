-- private.normalize_phone: every real-world spelling of one number gives the same E.164 value.
begin;
select plan(14);

select is(private.normalize_phone('+7 912 345-67-89'), '+79123456789', 'international with spaces and dashes');
select is(private.normalize_phone('8 (912) 345-67-89'), '+79123456789', 'Russian trunk prefix 8');
select is(private.normalize_phone('89123456789'), '+79123456789', 'trunk prefix without punctuation');
select is(private.normalize_phone('79123456789'), '+79123456789', 'country code without plus');
select is(private.normalize_phone('9123456789'), '+79123456789', 'ten-digit mobile without country code');
select is(private.normalize_phone('79123456789@s.whatsapp.net'), '+79123456789', 'WhatsApp chat id');
select is(private.normalize_phone('+7 (727) 123 45 67'), '+77271234567', 'Kazakhstan landline');
select is(private.normalize_phone('2001'), null, 'an internal extension is not a phone');
select is(private.normalize_phone(null), null, 'null stays null');
select is(private.normalize_phone('+44 20 7946 0958'), '+442079460958', 'a non-Russian number keeps its country code');

-- The cases the old rule got wrong (it turned any 11-digit number starting with 8 into +7…).
select is(private.normalize_phone('+84 912 345 678'), '+84912345678', 'a written country code wins (Vietnam, not +7 491…)');
select is(private.normalize_phone('+7 912 345-67-89 доб. 123'), '+79123456789', 'an extension is dropped');
select is(private.normalize_phone('0079123456789'), '+79123456789', '00 is an international prefix');
select is(private.normalize_phone('8 701 123 45 67', 'KZ'), '+77011234567', 'a national number takes the given country');

select * from finish();
rollback;
