-- Users and their credentials. E-mail is unique case-insensitively; a user being deleted keeps a
-- tombstone (deleted_at) until the deletion has swept their todos and sessions.
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    age           integer CHECK (age BETWEEN 0 AND 150),
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz
);

CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
