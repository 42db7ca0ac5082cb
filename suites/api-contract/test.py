"""api-contract: the API's contract, against a real database and the
payment provider's stub.

Targets api, db and payments: every endpoint's status codes, headers and
JSON fields, the charge the API asks the provider for (amount, currency,
idempotency key), and the errors a client gets for bad requests. In the
broken variant placing an order fails (500, naming the renamed column).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from shoptest import check, eq, expect, http, run, test, unique, url  # noqa: E402

API = url("api", 8080)
PAYMENTS = url("payments", 8080)
ORDER_FIELDS = {"id", "email", "status", "total_cents", "payment_id", "created_at",
                "tracking", "items"}


def json_answer(r, status, what):
    body = expect(r, status, what)
    ctype = r.headers.get("Content-Type", "")
    check(ctype.startswith("application/json"), "%s: Content-Type %r" % (what, ctype))
    return body


@test
def products():
    ps = json_answer(http("GET", API + "/products"), 200, "GET /products")
    check(isinstance(ps, list) and ps, "a non-empty list: %r" % ps)
    for p in ps:
        eq(set(p), {"sku", "name", "price_cents", "stock"}, "fields of a product")
        check(isinstance(p["price_cents"], int), "price_cents is an integer: %r" % p)
    eq(json_answer(http("GET", API + "/products/mug"), 200, "GET /products/mug")["sku"],
       "mug", "sku")
    err = json_answer(http("GET", API + "/products/nope"), 404, "unknown product")
    check("error" in err, "an error field: %r" % err)


@test
def place_order():
    email = unique("contract") + "@example.test"
    r = http("POST", API + "/orders", {"email": email, "card": "tok_visa",
                                       "items": [{"sku": "tee", "quantity": 2}]})
    o = json_answer(r, 201, "POST /orders")
    eq(set(o), ORDER_FIELDS, "fields of an order")
    eq(r.headers.get("Location"), "/orders/%d" % o["id"], "Location")
    eq(o["status"], "paid", "status of a new order")
    eq(o["total_cents"], 5000, "total_cents")
    eq(o["items"], [{"sku": "tee", "name": "Orchestra T-shirt", "quantity": 2,
                     "price_cents": 2500}], "items")
    got = json_answer(http("GET", API + "/orders/%d" % o["id"]), 200, "GET /orders/<id>")
    eq(got["id"], o["id"], "id")
    eq(got["total_cents"], 5000, "total_cents read back")


@test
def charge_sent_to_the_provider():
    email = unique("charge") + "@example.test"
    o = expect(http("POST", API + "/orders", {"email": email, "card": "tok_visa",
                                              "items": [{"sku": "mug", "quantity": 3}]}),
               201, "POST /orders")
    charges = expect(http("GET", PAYMENTS + "/charges"), 200, "the stub's charges")
    mine = [c for c in charges if c["answer"].get("id") == o["payment_id"]]
    eq(len(mine), 1, "charges for the order's payment_id")
    c = mine[0]
    eq((c["amount_cents"], c["currency"], c["card"]), (3600, "EUR", "tok_visa"), "charge")
    check(c["idempotency_key"] and c["idempotency_key"] == c["reference"],
          "an idempotency key, the charge's reference: %r" % c)


@test
def order_from_a_cart():
    cart, email = unique("cart"), unique("fromcart") + "@example.test"
    expect(http("PUT", "%s/carts/%s/items/sticker" % (API, cart), {"quantity": 4}), 200, "PUT")
    o = json_answer(http("POST", API + "/orders", {"email": email, "card": "tok_visa",
                                                   "cart": cart}), 201, "POST /orders (cart)")
    eq(o["total_cents"], 1200, "total_cents")
    eq(http("GET", "%s/carts/%s" % (API, cart)).json["items"], [], "the cart after ordering")


@test
def bad_requests():
    good = {"email": "a@b.test", "card": "tok_visa", "items": [{"sku": "mug", "quantity": 1}]}
    cases = [
        (b"{nope", 400, "body not JSON"),
        (b"[1]", 400, "body not an object"),
        (dict(good, email="nobody"), 422, "bad e-mail"),
        (dict(good, card=""), 422, "no card"),
        (dict(good, items=[]), 422, "no items"),
        (dict(good, items=[{"sku": "mug", "quantity": 0}]), 422, "quantity 0"),
        (dict(good, items=[{"sku": "nope", "quantity": 1}]), 422, "unknown product"),
        ({"email": "a@b.test", "card": "tok_visa", "cart": unique("empty")}, 422, "empty cart"),
    ]
    for body, status, what in cases:
        err = json_answer(http("POST", API + "/orders", body), status, what)
        check(isinstance(err.get("error"), str), "%s: an error message: %r" % (what, err))


@test
def unknown_things():
    json_answer(http("GET", API + "/orders/999999999"), 404, "unknown order")
    json_answer(http("GET", API + "/customers/999999999"), 404, "unknown customer")
    json_answer(http("GET", API + "/nowhere"), 404, "unknown path")
    json_answer(http("DELETE", API + "/products"), 405, "wrong method")
    json_answer(http("GET", API + "/orders"), 422, "orders without email")


run("api-contract")
