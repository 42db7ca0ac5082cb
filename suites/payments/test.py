"""payments: external-service integration, the API and its payment
provider when the provider says no, fails or is slow.

Targets api and payments (a stub: a third party is never real here). The
card token picks the stub's answer: tok_declined (402), tok_insufficient
(402), tok_error (500), tok_unavailable (503), tok_timeout (an answer
after 5 s, past the API's 2 s). The API must answer 402, 502 or 504, store
no order and take no stock. The API charges before it stores anything, so
this suite passes in the broken variant too.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from shoptest import check, db, eq, expect, http, query, run, test, unique, url  # noqa: E402

API = url("api", 8080)
PAYMENTS = url("payments", 8080)
conn = db()


def attempt(card):
    """Order with card; (answer, seconds taken, stock of tee before, after)."""
    email = unique(card) + "@example.test"
    before = expect(http("GET", API + "/products/tee"), 200, "GET /products/tee")["stock"]
    t0 = time.monotonic()
    r = http("POST", API + "/orders", {"email": email, "card": card,
                                       "items": [{"sku": "tee", "quantity": 1}]})
    secs = time.monotonic() - t0
    after = expect(http("GET", API + "/products/tee"), 200, "GET /products/tee")["stock"]
    eq(after, before, "stock after a failed payment (%s)" % card)
    # what the API stored, seen in the database: nothing
    eq(query(conn, "SELECT count(*) FROM orders WHERE customer_email = %s", (email,)),
       [(0,)], "orders stored after a failed payment (%s)" % card)
    return r, secs


@test
def declined_card():
    r, _ = attempt("tok_declined")
    body = expect(r, 402, "a declined card")
    eq(body, {"error": "payment declined", "code": "card_declined"}, "answer")


@test
def insufficient_funds():
    r, _ = attempt("tok_insufficient")
    eq(expect(r, 402, "insufficient funds")["code"], "insufficient_funds", "decline code")


@test
def provider_error():
    r, _ = attempt("tok_error")
    body = expect(r, 502, "the provider answering 500")
    eq(body.get("provider_status"), 500, "provider_status")


@test
def provider_unavailable():
    r, _ = attempt("tok_unavailable")
    eq(expect(r, 502, "the provider answering 503").get("provider_status"), 503,
       "provider_status")


@test
def provider_timeout():
    r, secs = attempt("tok_timeout")
    expect(r, 504, "the provider answering after the API's timeout")
    check(secs < 4.5, "the API gave up after its 2 s timeout, not the provider's 5 s"
          " (took %.1fs)" % secs)


@test
def every_attempt_reached_the_provider():
    charges = expect(http("GET", PAYMENTS + "/charges"), 200, "the stub's charges")
    seen = {c["card"] for c in charges}
    for card in ("tok_declined", "tok_insufficient", "tok_error", "tok_unavailable",
                 "tok_timeout"):
        check(card in seen, "a charge with %s reached the stub" % card)


run("payments")
