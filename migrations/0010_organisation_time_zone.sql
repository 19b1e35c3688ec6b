-- 0010: an organisation's time zone. Admins in Oslo read "today" and "the
-- day's calls" as Oslo days, not UTC ones: call statistics count days in this
-- zone and the admin shows call and audit times in it. An IANA name (as Go's
-- time.LoadLocation and PostgreSQL's AT TIME ZONE both read it), validated by
-- the application; UTC until an admin sets one. Not personal data.

ALTER TABLE organisations ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC' CHECK (time_zone <> '');

COMMENT ON COLUMN organisations.time_zone IS 'IANA time zone (e.g. Europe/Oslo) of the organisation''s days in statistics and times in the admin.';
