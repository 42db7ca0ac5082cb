#!/usr/bin/env python3
"""e2e: end to end through the web front, from the host.

A host suite (host: true): it runs where orchestrate runs, with the
standard library only, and reaches the web front through its published
port (ORCH_WEB_HOST, ORCH_WEB_PORT_80), as a browser would. A customer
opens the page, fills a cart, orders with a good card and with a declined
one, and follows the order until it ships -- when the API and the worker
are real (ORCH_STUBS): with the API's stub an order stays 'paid', with the
worker's stub it is never shipped.

In the broken variant the order fails against the real API (500) after
passing against the API's stub: the interface mismatch between the stub
and the real API that top-down and sandwich report. Without JUNIT_FILE in
the environment it writes no JUnit file.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from shoptest import check, eq, expect, http, run, stubs, test, unique, url, wait_for  # noqa: E402

WEB = url("web", 80)
API = WEB + "/api"
state = {}


@test
def open_the_shop():
    r = http("GET", WEB + "/")
    expect(r, 200, "GET /")
    check("Example shop" in r.text, "the shop's page")
    ps = expect(http("GET", API + "/products"), 200, "the catalogue")
    state["prices"] = {p["sku"]: p["price_cents"] for p in ps}
    check("mug" in state["prices"], "a mug on sale: %r" % ps)


@test
def fill_a_cart():
    cart = state["cart"] = unique("e2e-cart")
    expect(http("PUT", "%s/carts/%s/items/mug" % (API, cart), {"quantity": 2}), 200, "add mugs")
    c = expect(http("PUT", "%s/carts/%s/items/sticker" % (API, cart), {"quantity": 1}), 200,
               "add stickers")
    eq(c["total_cents"], 2 * state["prices"]["mug"] + state["prices"]["sticker"], "cart total")


@test
def declined_card_is_refused():
    r = http("POST", API + "/orders", {"email": unique("e2e") + "@example.test",
                                       "card": "tok_declined", "cart": state["cart"]})
    eq(expect(r, 402, "ordering with a declined card")["error"], "payment declined", "error")
    c = expect(http("GET", "%s/carts/%s" % (API, state["cart"])), 200, "the cart")
    eq(len(c["items"]), 2, "the cart is kept after a declined payment")


@test
def order_with_a_good_card():
    email = unique("e2e") + "@example.test"
    o = expect(http("POST", API + "/orders", {"email": email, "card": "tok_visa",
                                              "cart": state["cart"]}), 201, "ordering")
    eq(o["status"], "paid", "status")
    eq(o["total_cents"], 2 * state["prices"]["mug"] + state["prices"]["sticker"], "total")
    state["order"] = o["id"]
    got = expect(http("GET", "%s/orders/%d" % (API, o["id"])), 200, "the order page")
    eq(got["email"], email, "the order's e-mail")


@test
def order_ships():
    if {"api", "worker"} & stubs():
        print("      (api or worker is a stub here: not waiting for the shipment)")
        return
    check("order" in state, "no order to follow: ordering failed")
    o = wait_for(lambda: (lambda x: x if x["status"] == "fulfilled" else None)(
        expect(http("GET", "%s/orders/%d" % (API, state["order"])), 200, "the order page")),
        "the order shipped by the worker")
    check(o["tracking"], "a tracking number: %r" % o)


run("e2e")
