"""The payment provider's stub (port 8080), a card-charging API in the
style of the real ones, where the card token picks the answer:

  POST /charges  {"amount_cents", "currency", "card", "reference"}
                 header Idempotency-Key (a repeated key gets the first answer)
     card tok_declined      402 {"error": {"code": "card_declined", ...}}
     card tok_insufficient  402 {"error": {"code": "insufficient_funds", ...}}
     card tok_error         500 {"error": {"code": "processing_error", ...}}
     card tok_unavailable   503 {"error": {"code": "service_unavailable", ...}}
     card tok_timeout       201, but only after SLOW_SECONDS (5): past the
                            caller's timeout
     any other card         201 {"id": "ch_N", "status": "succeeded", ...}
  POST /charges/<id>/refunds   201 {"id": "re_N", "charge": id}
  GET  /charges[?reference=R]  every attempt, with its answer (for suites)
  GET  /health
"""

import itertools
import os
import threading
import time

from shop.jsonhttp import App, HTTPError, exit_on_sigterm

app = App("payments-stub")
lock = threading.Lock()
ids = itertools.count(1)
attempts = []
by_key = {}
SLOW_SECONDS = float(os.environ.get("SLOW_SECONDS", "5"))

FAILURES = {
    "tok_declined": (402, "card_declined", "the card was declined"),
    "tok_insufficient": (402, "insufficient_funds", "insufficient funds"),
    "tok_error": (500, "processing_error", "an error occurred while processing the card"),
    "tok_unavailable": (503, "service_unavailable", "try again later"),
}


@app.route("GET", "/health")
def health(req):
    return 200, {"status": "ok"}


@app.route("POST", "/charges")
def charge(req):
    body = req.json()
    key = req.headers.get("Idempotency-Key")
    amount, currency, card = body.get("amount_cents"), body.get("currency"), body.get("card")
    if not isinstance(amount, int) or amount <= 0 or not isinstance(currency, str) \
            or not isinstance(card, str):
        raise HTTPError(400, {"code": "invalid_request",
                              "message": "amount_cents (> 0), currency and card are required"})
    with lock:
        if key and key in by_key:
            return by_key[key]
        # recorded on arrival: a caller that gave up still shows in the list
        attempt = {"reference": body.get("reference"), "idempotency_key": key,
                   "amount_cents": amount, "currency": currency, "card": card,
                   "status": None, "answer": {}}
        attempts.append(attempt)
    if card == "tok_timeout":
        time.sleep(SLOW_SECONDS)
    if card in FAILURES:
        status, code, message = FAILURES[card]
        answer = (status, {"error": {"code": code, "message": message}})
    else:
        answer = (201, {"id": "ch_%d" % next(ids), "status": "succeeded",
                        "amount_cents": amount, "currency": currency,
                        "reference": body.get("reference"), "refunded": False})
    with lock:
        attempt["status"], attempt["answer"] = answer
        if key:
            by_key[key] = answer
    return answer


@app.route("POST", "/charges/(?P<id>ch_[0-9]+)/refunds")
def refund(req):
    with lock:
        for a in attempts:
            if a["answer"].get("id") == req.params["id"]:
                a["answer"]["refunded"] = True
                return 201, {"id": "re_%d" % next(ids), "charge": req.params["id"]}
    raise HTTPError(404, {"code": "resource_missing", "message": "no such charge"})


@app.route("GET", "/charges")
def list_charges(req):
    ref = req.arg("reference")
    with lock:
        return 200, [a for a in attempts if ref is None or a["reference"] == ref]


if __name__ == "__main__":
    exit_on_sigterm()
    app.serve(int(os.environ.get("PORT", "8080")))
