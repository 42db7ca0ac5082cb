"""The API's data layer: every SQL statement the API runs, on a cursor the
caller owns (one transaction per request, see db.Pool). The tables are
made by the migration job (migrations/); this module is the API's side of
that interface, and the suites db-migrations, orders-store and
api-contract check the two sides against each other.

Prices and totals are integers in cents.
"""


class OutOfStock(Exception):
    def __init__(self, sku):
        super().__init__("not enough stock for '%s'" % sku)
        self.sku = sku


def list_products(cur):
    cur.execute("SELECT sku, name, price_cents, stock FROM products ORDER BY sku")
    return cur.fetchall()


def get_product(cur, sku):
    cur.execute("SELECT id, sku, name, price_cents, stock FROM products WHERE sku = %s",
                (sku,))
    return cur.fetchone()


def products_by_sku(cur, skus):
    cur.execute("SELECT id, sku, name, price_cents, stock FROM products"
                " WHERE sku = ANY(%s)", (list(skus),))
    return {r["sku"]: r for r in cur.fetchall()}


def create_customer(cur, email, name):
    """The new customer, or None when the e-mail address is taken."""
    cur.execute("INSERT INTO customers (email, name) VALUES (%s, %s)"
                " ON CONFLICT (email) DO NOTHING"
                " RETURNING id, email, name, created_at, welcome_sent_at",
                (email, name))
    return cur.fetchone()


def get_customer(cur, customer_id):
    cur.execute("SELECT id, email, name, created_at, welcome_sent_at"
                " FROM customers WHERE id = %s", (customer_id,))
    return cur.fetchone()


def create_order(cur, email, lines, payment_id):
    """Store a paid order: lines are (product row, quantity). Takes the
    stock; raises OutOfStock (the caller rolls back) when it is short."""
    total = sum(p["price_cents"] * q for p, q in lines)
    for p, q in lines:
        cur.execute("UPDATE products SET stock = stock - %s"
                    " WHERE id = %s AND stock >= %s", (q, p["id"], q))
        if cur.rowcount != 1:
            raise OutOfStock(p["sku"])
    cur.execute("INSERT INTO orders (customer_email, status, total_cents, payment_id)"
                " VALUES (%s, 'paid', %s, %s) RETURNING id",
                (email, total, payment_id))
    order_id = cur.fetchone()["id"]
    for p, q in lines:
        cur.execute("INSERT INTO order_items (order_id, product_id, quantity, price_cents)"
                    " VALUES (%s, %s, %s, %s)", (order_id, p["id"], q, p["price_cents"]))
    return get_order(cur, order_id)


def get_order(cur, order_id):
    cur.execute("SELECT o.id, o.customer_email AS email, o.status, o.total_cents,"
                "       o.payment_id, o.created_at, s.tracking"
                "  FROM orders o LEFT JOIN shipments s ON s.order_id = o.id"
                " WHERE o.id = %s", (order_id,))
    order = cur.fetchone()
    if order is None:
        return None
    cur.execute("SELECT p.sku, p.name, i.quantity, i.price_cents"
                "  FROM order_items i JOIN products p ON p.id = i.product_id"
                " WHERE i.order_id = %s ORDER BY p.sku", (order_id,))
    order["items"] = cur.fetchall()
    return order


def orders_of(cur, email):
    cur.execute("SELECT id FROM orders WHERE customer_email = %s ORDER BY id", (email,))
    return [get_order(cur, r["id"]) for r in cur.fetchall()]
