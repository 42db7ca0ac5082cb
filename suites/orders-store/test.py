"""orders-store: database integration, reads and writes through the API's
data layer.

Targets api and db: orders written through the API are checked row by row
in PostgreSQL, and rows written in PostgreSQL are read back through the
API. This is the API's side of the schema: in the broken variant, where a
migration renamed orders.total_cents, the order tests fail here and name
the column.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from shoptest import check, db, eq, expect, http, query, run, test, unique, url  # noqa: E402

API = url("api", 8080)
conn = db()


def order(email, items, card="tok_visa"):
    return http("POST", API + "/orders", {"email": email, "card": card, "items": items})


@test
def product_written_in_sql_is_read_through_the_api():
    sku = unique("sku")
    query(conn, "INSERT INTO products (sku, name, price_cents, stock)"
                " VALUES (%s, 'Test product', 999, 5)", (sku,))
    p = expect(http("GET", API + "/products/" + sku), 200, "GET /products/" + sku)
    eq(p, {"sku": sku, "name": "Test product", "price_cents": 999, "stock": 5}, "product")
    query(conn, "UPDATE products SET price_cents = 1099 WHERE sku = %s", (sku,))
    p = expect(http("GET", API + "/products/" + sku), 200, "GET after a price change")
    eq(p["price_cents"], 1099, "price read after an UPDATE")


@test
def order_written_through_the_api_is_in_the_tables():
    email = unique("store") + "@example.test"
    (stock_before,), = query(conn, "SELECT stock FROM products WHERE sku = 'mug'")
    o = expect(order(email, [{"sku": "mug", "quantity": 2}, {"sku": "sticker", "quantity": 1}]),
               201, "POST /orders")
    rows = query(conn, "SELECT customer_email, status, total_cents, payment_id"
                       " FROM orders WHERE id = %s", (o["id"],))
    eq(len(rows), 1, "orders rows")
    email_db, status, total, payment = rows[0]
    eq(email_db, email, "customer_email")
    check(status in ("paid", "fulfilled"), "status %r" % status)
    eq(total, 2 * 1200 + 300, "total_cents")
    eq(payment, o["payment_id"], "payment_id")
    items = query(conn, "SELECT p.sku, i.quantity, i.price_cents FROM order_items i"
                        " JOIN products p ON p.id = i.product_id WHERE i.order_id = %s"
                        " ORDER BY p.sku", (o["id"],))
    eq(items, [("mug", 2, 1200), ("sticker", 1, 300)], "order_items")
    (stock_after,), = query(conn, "SELECT stock FROM products WHERE sku = 'mug'")
    eq(stock_after, stock_before - 2, "mug stock taken")


@test
def order_read_through_the_api_matches_the_row():
    email = unique("read") + "@example.test"
    o = expect(order(email, [{"sku": "tee", "quantity": 1}]), 201, "POST /orders")
    got = expect(http("GET", API + "/orders/%d" % o["id"]), 200, "GET /orders/<id>")
    (total, status), = query(conn, "SELECT total_cents, status FROM orders WHERE id = %s",
                             (o["id"],))
    eq(got["total_cents"], total, "total_cents")
    # the worker may ship the order between the two reads, never back
    check((got["status"], status) in (("paid", "paid"), ("paid", "fulfilled"),
                                      ("fulfilled", "fulfilled")),
          "status through the API %r, then in the table %r" % (got["status"], status))
    listed = expect(http("GET", API + "/orders?email=" + email), 200, "GET /orders?email=")
    eq([x["id"] for x in listed], [o["id"]], "orders of the customer")


@test
def refused_order_leaves_no_rows():
    email = unique("short") + "@example.test"
    sku = unique("rare")
    query(conn, "INSERT INTO products (sku, name, price_cents, stock)"
                " VALUES (%s, 'Rare', 500, 1)", (sku,))
    r = order(email, [{"sku": sku, "quantity": 2}])
    expect(r, 409, "ordering 2 of a product with stock 1")
    eq(query(conn, "SELECT count(*) FROM orders WHERE customer_email = %s", (email,)),
       [(0,)], "orders stored")
    eq(query(conn, "SELECT stock FROM products WHERE sku = %s", (sku,)), [(1,)], "stock")


run("orders-store")
