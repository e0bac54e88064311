-- E-mail uniqueness by `email_key`: the address Unicode-normalised (NFKC) and case-folded, computed by
-- the application (todo_app.models.email_key), so that "Ärger@" and "ärger@", or "straße@" and
-- "STRASSE@", are one account; lower(email) folded ASCII only.
-- Existing rows get the closest SQL equivalent (lower of the NFKC form); every write from now on sets
-- the application's key.
ALTER TABLE users ADD COLUMN email_key text;
UPDATE users SET email_key = lower(normalize(email, NFKC));
ALTER TABLE users ALTER COLUMN email_key SET NOT NULL;
CREATE UNIQUE INDEX users_email_key_key ON users (email_key);
DROP INDEX users_email_lower_key;
