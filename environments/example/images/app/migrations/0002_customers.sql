-- Customers (the API signs them up) and the e-mails the worker sent.
CREATE TABLE customers (
    id              serial      PRIMARY KEY,
    email           text        NOT NULL UNIQUE,
    name            text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    welcome_sent_at timestamptz
);

CREATE TABLE emails (
    id          serial      PRIMARY KEY,
    kind        text        NOT NULL CHECK (kind IN ('welcome', 'shipped')),
    recipient   text        NOT NULL,
    subject     text        NOT NULL,
    provider_id text        NOT NULL,
    sent_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX emails_recipient ON emails (recipient);
