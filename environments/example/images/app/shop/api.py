"""The shop's HTTP API (port 8080).

  GET    /health                  200 when PostgreSQL and Redis answer, else 503
  GET    /status                  the worker's counters and the queue length
  GET    /products                the catalogue
  GET    /products/<sku>
  GET    /carts/<id>              a cart (kept in Redis for an hour)
  PUT    /carts/<id>/items/<sku>  {"quantity": n}; 0 removes the item
  DELETE /carts/<id>
  POST   /customers               {"email", "name"}: sign up; queues the welcome e-mail
  GET    /customers/<id>
  POST   /orders                  {"email", "card", "items": [{"sku", "quantity"}]}
                                  or {"email", "card", "cart": id}: charges the
                                  payment provider, stores the order, queues it
  GET    /orders/<id>
  GET    /orders?email=<address>

Orders: the payment is charged before anything is stored, so a declined
card (402), a provider error (502) or a provider timeout (504) leaves no
order behind; a charge whose order cannot be stored is refunded. Work for
the worker goes to the Redis list shop:jobs as JSON ({"type": "fulfil",
"order_id": n} or {"type": "welcome", "customer_id": n}).

Environment: DB_HOST..., see db.py; REDIS_HOST (cache), PAYMENTS_URL
(http://payments:8080), PAYMENTS_TIMEOUT (seconds, 2), WORKER_URL
(http://worker:8081).
"""

import datetime
import json
import os
import re
import uuid

import redis

from shop import db, store
from shop.jsonhttp import App, HTTPError, call, exit_on_sigterm

QUEUE = "shop:jobs"
CART_TTL = 3600
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CART_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

PAYMENTS_URL = os.environ.get("PAYMENTS_URL", "http://payments:8080").rstrip("/")
PAYMENTS_TIMEOUT = float(os.environ.get("PAYMENTS_TIMEOUT", "2"))
WORKER_URL = os.environ.get("WORKER_URL", "http://worker:8081").rstrip("/")

app = App("shop-api")
pool = None
queue = None


def jsonable(row):
    """A row (or a list of rows) with its timestamps as ISO 8601 text."""
    if isinstance(row, list):
        return [jsonable(r) for r in row]
    if isinstance(row, dict):
        return {k: jsonable(v) for k, v in row.items()}
    if isinstance(row, datetime.datetime):
        return row.isoformat()
    return row


def cart_key(cart_id):
    if not CART_ID.match(cart_id):
        raise HTTPError(422, "invalid cart id: use 1-64 letters, digits, '-' or '_'")
    return "shop:cart:" + cart_id


def quantity_of(value, allow_zero=False):
    low = 0 if allow_zero else 1
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= 100:
        raise HTTPError(422, "quantity must be an integer from %d to 100" % low)
    return value


@app.route("GET", "/health")
def health(req):
    try:
        with pool.cursor() as cur:
            cur.execute("SELECT 1")
        queue.ping()
    except Exception as e:
        return 503, {"status": "unavailable", "detail": str(e).strip()}
    return 200, {"status": "ok"}


@app.route("GET", "/status")
def status(req):
    try:
        code, worker = call("GET", WORKER_URL + "/stats", timeout=2)
        if code != 200:
            worker = {"error": "worker answered %d" % code}
    except OSError as e:
        worker = {"error": "worker unreachable: %s" % e}
    return 200, {"api": "ok", "worker": worker, "queue": queue.llen(QUEUE)}


@app.route("GET", "/products")
def products(req):
    with pool.cursor() as cur:
        return 200, store.list_products(cur)


@app.route("GET", "/products/(?P<sku>[^/]+)")
def product(req):
    with pool.cursor() as cur:
        p = store.get_product(cur, req.params["sku"])
    if p is None:
        raise HTTPError(404, "no such product", sku=req.params["sku"])
    del p["id"]
    return 200, p


def cart_view(cart_id):
    raw = queue.hgetall(cart_key(cart_id))
    items = []
    if raw:
        with pool.cursor() as cur:
            known = store.products_by_sku(cur, raw.keys())
        for sku in sorted(raw):
            p = known.get(sku)
            if p:
                items.append({"sku": sku, "name": p["name"], "quantity": int(raw[sku]),
                              "price_cents": p["price_cents"]})
    return {"id": cart_id, "items": items,
            "total_cents": sum(i["quantity"] * i["price_cents"] for i in items)}


@app.route("GET", "/carts/(?P<id>[^/]+)")
def get_cart(req):
    return 200, cart_view(req.params["id"])


@app.route("PUT", "/carts/(?P<id>[^/]+)/items/(?P<sku>[^/]+)")
def put_cart_item(req):
    key = cart_key(req.params["id"])
    sku = req.params["sku"]
    q = quantity_of(req.json().get("quantity"), allow_zero=True)
    with pool.cursor() as cur:
        if store.get_product(cur, sku) is None:
            raise HTTPError(404, "no such product", sku=sku)
    pipe = queue.pipeline()
    if q == 0:
        pipe.hdel(key, sku)
    else:
        pipe.hset(key, sku, q)
    pipe.expire(key, CART_TTL)
    pipe.execute()
    return 200, cart_view(req.params["id"])


@app.route("DELETE", "/carts/(?P<id>[^/]+)")
def delete_cart(req):
    queue.delete(cart_key(req.params["id"]))
    return 204, None


@app.route("POST", "/customers")
def sign_up(req):
    body = req.json()
    email, name = body.get("email"), body.get("name")
    if not isinstance(email, str) or not EMAIL.match(email):
        raise HTTPError(422, "a valid e-mail address is required")
    if not isinstance(name, str) or not name.strip():
        raise HTTPError(422, "a name is required")
    with pool.cursor() as cur:
        c = store.create_customer(cur, email, name.strip())
    if c is None:
        raise HTTPError(409, "e-mail address already registered")
    queue.lpush(QUEUE, json.dumps({"type": "welcome", "customer_id": c["id"]}))
    return 201, jsonable(c), {"Location": "/customers/%d" % c["id"]}


@app.route("GET", "/customers/(?P<id>[0-9]+)")
def customer(req):
    with pool.cursor() as cur:
        c = store.get_customer(cur, int(req.params["id"]))
    if c is None:
        raise HTTPError(404, "no such customer")
    return 200, jsonable(c)


def order_lines(body):
    """[(sku, quantity)] from the items or the cart of an order request."""
    if "cart" in body:
        if not isinstance(body["cart"], str):
            raise HTTPError(422, "cart must be a cart id")
        raw = queue.hgetall(cart_key(body["cart"]))
        if not raw:
            raise HTTPError(422, "the cart is empty")
        return sorted((sku, int(q)) for sku, q in raw.items())
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise HTTPError(422, "items (a non-empty list) or cart is required")
    lines = {}
    for it in items:
        if not isinstance(it, dict) or not isinstance(it.get("sku"), str):
            raise HTTPError(422, "each item needs a sku and a quantity")
        lines[it["sku"]] = lines.get(it["sku"], 0) + quantity_of(it.get("quantity"))
    return sorted(lines.items())


def charge(amount, card, reference):
    """The payment provider's charge, or the HTTPError the API answers."""
    try:
        code, body = call("POST", PAYMENTS_URL + "/charges",
                          {"amount_cents": amount, "currency": "EUR", "card": card,
                           "reference": reference},
                          headers={"Idempotency-Key": reference},
                          timeout=PAYMENTS_TIMEOUT)
    except TimeoutError:
        raise HTTPError(504, "payment provider timed out",
                        timeout_s=PAYMENTS_TIMEOUT)
    except OSError as e:
        raise HTTPError(502, "payment provider unreachable", detail=str(e))
    if code in (200, 201) and isinstance(body, dict) and body.get("status") == "succeeded":
        return body
    if code == 402:
        reason = body.get("error", {}).get("code") if isinstance(body, dict) else None
        raise HTTPError(402, "payment declined", code=reason or "declined")
    raise HTTPError(502, "payment provider error", provider_status=code)


def refund(charge_id):
    try:
        call("POST", "%s/charges/%s/refunds" % (PAYMENTS_URL, charge_id), {},
             timeout=PAYMENTS_TIMEOUT)
    except OSError as e:
        print("refund of %s failed: %s" % (charge_id, e), flush=True)


@app.route("POST", "/orders")
def place_order(req):
    body = req.json()
    email, card = body.get("email"), body.get("card")
    if not isinstance(email, str) or not EMAIL.match(email):
        raise HTTPError(422, "a valid e-mail address is required")
    if not isinstance(card, str) or not card:
        raise HTTPError(422, "a card token is required")
    wanted = order_lines(body)
    with pool.cursor() as cur:
        known = store.products_by_sku(cur, [sku for sku, _ in wanted])
    lines = []
    for sku, q in wanted:
        p = known.get(sku)
        if p is None:
            raise HTTPError(422, "no such product", sku=sku)
        if p["stock"] < q:
            raise HTTPError(409, "not enough stock", sku=sku, stock=p["stock"])
        lines.append((p, q))
    total = sum(p["price_cents"] * q for p, q in lines)
    paid = charge(total, card, uuid.uuid4().hex)
    try:
        with pool.cursor() as cur:
            order = store.create_order(cur, email, lines, paid["id"])
    except store.OutOfStock as e:
        refund(paid["id"])
        raise HTTPError(409, "not enough stock", sku=e.sku)
    except Exception:
        refund(paid["id"])
        raise
    queue.lpush(QUEUE, json.dumps({"type": "fulfil", "order_id": order["id"]}))
    if "cart" in body:
        queue.delete(cart_key(body["cart"]))
    return 201, jsonable(order), {"Location": "/orders/%d" % order["id"]}


@app.route("GET", "/orders/(?P<id>[0-9]+)")
def get_order(req):
    with pool.cursor() as cur:
        o = store.get_order(cur, int(req.params["id"]))
    if o is None:
        raise HTTPError(404, "no such order")
    return 200, jsonable(o)


@app.route("GET", "/orders")
def list_orders(req):
    email = req.arg("email")
    if not email:
        raise HTTPError(422, "query parameter email is required")
    with pool.cursor() as cur:
        return 200, jsonable(store.orders_of(cur, email))


def main():
    global pool, queue
    exit_on_sigterm()
    db.connect().close()  # fail early (and retry) while PostgreSQL starts
    pool = db.Pool()
    queue = redis.Redis(host=os.environ.get("REDIS_HOST", "cache"),
                        port=int(os.environ.get("REDIS_PORT", "6379")),
                        socket_timeout=3, decode_responses=True)
    app.serve(int(os.environ.get("PORT", "8080")))


if __name__ == "__main__":
    main()
