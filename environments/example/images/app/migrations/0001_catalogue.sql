-- The catalogue, with the products every run starts from.
CREATE TABLE products (
    id          serial  PRIMARY KEY,
    sku         text    NOT NULL UNIQUE,
    name        text    NOT NULL,
    price_cents integer NOT NULL CHECK (price_cents > 0),
    stock       integer NOT NULL DEFAULT 0 CHECK (stock >= 0)
);

INSERT INTO products (sku, name, price_cents, stock) VALUES
    ('mug',     'Enamel mug',         1200,   1000),
    ('tee',     'Orchestra T-shirt',  2500,   1000),
    ('sticker', 'Sticker pack',        300, 100000);
