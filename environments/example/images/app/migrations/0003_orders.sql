-- Orders (written by the API once the payment went through) and their
-- shipments (written by the worker).
CREATE TABLE orders (
    id             serial      PRIMARY KEY,
    customer_email text        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('paid', 'fulfilled')),
    total_cents    integer     NOT NULL CHECK (total_cents > 0),
    payment_id     text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_email ON orders (customer_email);

CREATE TABLE order_items (
    order_id    integer NOT NULL REFERENCES orders ON DELETE CASCADE,
    product_id  integer NOT NULL REFERENCES products,
    quantity    integer NOT NULL CHECK (quantity > 0),
    price_cents integer NOT NULL CHECK (price_cents > 0),
    PRIMARY KEY (order_id, product_id)
);

CREATE TABLE shipments (
    order_id   integer     PRIMARY KEY REFERENCES orders ON DELETE CASCADE,
    tracking   text        NOT NULL UNIQUE,
    shipped_at timestamptz NOT NULL DEFAULT now()
);
