"""The API's stub (port 8080): the API's contract (see shop/api.py) with
canned data in memory, for the web front to talk to before the real API
is integrated. It speaks the same JSON as the API but stores nothing and
calls nothing: a fixed catalogue (the migration's), carts, customers and
orders in memory, orders 'paid' and never shipped, and the payment
provider's answers imitated from the card token (tok_declined 402,
tok_error 502, tok_timeout 504, at once).

What it does not check (stock, a real payment) is what the suites of the
real API are for.
"""

import datetime
import itertools
import os
import re
import threading

from shop.jsonhttp import App, HTTPError, exit_on_sigterm

app = App("api-stub")
lock = threading.Lock()
ids = itertools.count(1)
CATALOGUE = {
    "mug": {"sku": "mug", "name": "Enamel mug", "price_cents": 1200, "stock": 1000},
    "tee": {"sku": "tee", "name": "Orchestra T-shirt", "price_cents": 2500, "stock": 1000},
    "sticker": {"sku": "sticker", "name": "Sticker pack", "price_cents": 300, "stock": 100000},
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
carts, customers, orders = {}, {}, {}


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


@app.route("GET", "/health")
def health(req):
    return 200, {"status": "ok"}


@app.route("GET", "/status")
def status(req):
    return 200, {"api": "stub", "worker": {"stub": True}, "queue": 0}


@app.route("GET", "/products")
def products(req):
    return 200, [CATALOGUE[k] for k in sorted(CATALOGUE)]


@app.route("GET", "/products/(?P<sku>[^/]+)")
def product(req):
    p = CATALOGUE.get(req.params["sku"])
    if p is None:
        raise HTTPError(404, "no such product", sku=req.params["sku"])
    return 200, p


def cart_view(cid):
    items = [dict(sku=s, name=CATALOGUE[s]["name"], quantity=q,
                  price_cents=CATALOGUE[s]["price_cents"])
             for s, q in sorted(carts.get(cid, {}).items())]
    return {"id": cid, "items": items,
            "total_cents": sum(i["quantity"] * i["price_cents"] for i in items)}


@app.route("GET", "/carts/(?P<id>[^/]+)")
def get_cart(req):
    with lock:
        return 200, cart_view(req.params["id"])


@app.route("PUT", "/carts/(?P<id>[^/]+)/items/(?P<sku>[^/]+)")
def put_item(req):
    q = req.json().get("quantity")
    if not isinstance(q, int) or isinstance(q, bool) or not 0 <= q <= 100:
        raise HTTPError(422, "quantity must be an integer from 0 to 100")
    if req.params["sku"] not in CATALOGUE:
        raise HTTPError(404, "no such product", sku=req.params["sku"])
    with lock:
        cart = carts.setdefault(req.params["id"], {})
        if q:
            cart[req.params["sku"]] = q
        else:
            cart.pop(req.params["sku"], None)
        return 200, cart_view(req.params["id"])


@app.route("DELETE", "/carts/(?P<id>[^/]+)")
def delete_cart(req):
    with lock:
        carts.pop(req.params["id"], None)
    return 204, None


@app.route("POST", "/customers")
def sign_up(req):
    body = req.json()
    if not isinstance(body.get("email"), str) or not EMAIL.match(body["email"]):
        raise HTTPError(422, "a valid e-mail address is required")
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise HTTPError(422, "a name is required")
    with lock:
        if any(c["email"] == body["email"] for c in customers.values()):
            raise HTTPError(409, "e-mail address already registered")
        c = {"id": next(ids), "email": body["email"], "name": body["name"].strip(),
             "created_at": now(), "welcome_sent_at": None}
        customers[c["id"]] = c
    return 201, c, {"Location": "/customers/%d" % c["id"]}


@app.route("GET", "/customers/(?P<id>[0-9]+)")
def customer(req):
    c = customers.get(int(req.params["id"]))
    if c is None:
        raise HTTPError(404, "no such customer")
    return 200, c


@app.route("POST", "/orders")
def place_order(req):
    body = req.json()
    if not isinstance(body.get("email"), str) or not EMAIL.match(body["email"]):
        raise HTTPError(422, "a valid e-mail address is required")
    card = body.get("card")
    if not isinstance(card, str) or not card:
        raise HTTPError(422, "a card token is required")
    with lock:
        if "cart" in body:
            lines = dict(carts.get(body["cart"], {}))
            if not lines:
                raise HTTPError(422, "the cart is empty")
        else:
            lines = {}
            for it in body.get("items") or []:
                if not isinstance(it, dict) or not isinstance(it.get("quantity"), int):
                    raise HTTPError(422, "each item needs a sku and a quantity")
                lines[it.get("sku")] = lines.get(it.get("sku"), 0) + it["quantity"]
            if not lines:
                raise HTTPError(422, "items (a non-empty list) or cart is required")
        for sku in lines:
            if sku not in CATALOGUE:
                raise HTTPError(422, "no such product", sku=sku)
        if card == "tok_declined":
            raise HTTPError(402, "payment declined", code="card_declined")
        if card == "tok_error":
            raise HTTPError(502, "payment provider error", provider_status=500)
        if card == "tok_timeout":
            raise HTTPError(504, "payment provider timed out", timeout_s=2.0)
        n = next(ids)
        items = [dict(sku=s, name=CATALOGUE[s]["name"], quantity=q,
                      price_cents=CATALOGUE[s]["price_cents"])
                 for s, q in sorted(lines.items())]
        o = {"id": n, "email": body["email"], "status": "paid",
             "total_cents": sum(i["quantity"] * i["price_cents"] for i in items),
             "payment_id": "ch_stub_%d" % n, "created_at": now(), "tracking": None,
             "items": items}
        orders[n] = o
        if "cart" in body:
            carts.pop(body["cart"], None)
    return 201, o, {"Location": "/orders/%d" % n}


@app.route("GET", "/orders/(?P<id>[0-9]+)")
def get_order(req):
    o = orders.get(int(req.params["id"]))
    if o is None:
        raise HTTPError(404, "no such order")
    return 200, o


@app.route("GET", "/orders")
def list_orders(req):
    email = req.arg("email")
    if not email:
        raise HTTPError(422, "query parameter email is required")
    return 200, [o for o in orders.values() if o["email"] == email]


if __name__ == "__main__":
    exit_on_sigterm()
    app.serve(int(os.environ.get("PORT", "8080")))
