"""db-migrations: database integration, the schema and its migrations.

Targets migrate and db: what the migration job left in PostgreSQL. Every
migration is recorded once, in order, with a checksum; the tables exist
with their keys; the constraints reject bad rows; the catalogue is seeded.
What the schema must hold for the API is the API's side of the interface,
checked by orders-store and api-contract: so this suite passes in the
broken variant, whose extra migration applies cleanly.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import psycopg2  # noqa: E402
from shoptest import check, db, eq, query, run, test  # noqa: E402

conn = db()

TABLES = {
    "products": "id", "customers": "id", "emails": "id", "orders": "id",
    "order_items": "order_id,product_id", "shipments": "order_id",
    "schema_migrations": "version",
}


@test
def migrations_recorded_in_order():
    rows = query(conn, "SELECT version, name, checksum, applied_at"
                       " FROM schema_migrations ORDER BY version")
    check(len(rows) >= 3, "at least the 3 base migrations, got %r" % rows)
    eq([r[0] for r in rows[:3]], [1, 2, 3], "the first versions")
    for version, name, checksum, applied_at in rows:
        eq(len(checksum), 64, "checksum length of %d_%s" % (version, name))
    times = [r[3] for r in rows]
    eq(times, sorted(times), "applied in version order")


@test
def tables_have_their_primary_keys():
    for table, key in TABLES.items():
        rows = query(conn, """
            SELECT string_agg(a.attname, ',' ORDER BY array_position(i.indkey, a.attnum))
              FROM pg_index i
              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
             WHERE i.indrelid = %s::regclass AND i.indisprimary""", (table,))
        eq(rows[0][0], key, "primary key of %s" % table)


@test
def foreign_keys_hold():
    rows = query(conn, """
        SELECT conrelid::regclass::text, confrelid::regclass::text
          FROM pg_constraint WHERE contype = 'f' ORDER BY 1, 2""")
    for fk in [("order_items", "orders"), ("order_items", "products"),
               ("shipments", "orders")]:
        check(fk in rows, "foreign key %s -> %s missing (have %r)" % (fk + (rows,)))


@test
def constraints_reject_bad_rows():
    bad = [
        "INSERT INTO products (sku, name, price_cents) VALUES ('free', 'Free', 0)",
        "INSERT INTO products (sku, name, price_cents) VALUES ('mug', 'Again', 100)",
        "INSERT INTO order_items (order_id, product_id, quantity, price_cents)"
        " VALUES (-1, -1, 1, 100)",
        "INSERT INTO emails (kind, recipient, subject, provider_id)"
        " VALUES ('spam', 'a@b.test', 's', 'p')",
    ]
    for sql in bad:
        try:
            query(conn, sql)
        except psycopg2.IntegrityError:
            continue
        raise AssertionError("accepted: %s" % sql)


@test
def catalogue_seeded():
    rows = query(conn, "SELECT sku, price_cents FROM products"
                       " WHERE sku IN ('mug', 'tee', 'sticker') ORDER BY sku")
    eq(rows, [("mug", 1200), ("sticker", 300), ("tee", 2500)], "seeded products")


@test
def owned_by_the_application_role():
    rows = query(conn, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                       " AND tableowner <> 'shop'")
    eq(rows, [], "tables not owned by the role the services use")


run("db-migrations")
