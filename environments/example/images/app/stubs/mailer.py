"""The e-mail service's stub (port 8025): a transactional e-mail API that
sends nothing and keeps every message, so suites can check what was sent.

  POST   /messages  {"from", "to", "subject", "text"}  202 {"id": "msg-N"}
  GET    /messages[?to=ADDRESS]                        the messages kept
  DELETE /messages                                     forget them
  GET    /health
"""

import itertools
import os
import threading
import time

from shop.jsonhttp import App, HTTPError, exit_on_sigterm

app = App("mailer-stub")
lock = threading.Lock()
ids = itertools.count(1)
messages = []


@app.route("GET", "/health")
def health(req):
    return 200, {"status": "ok"}


@app.route("POST", "/messages")
def send(req):
    body = req.json()
    for field in ("from", "to", "subject", "text"):
        if not isinstance(body.get(field), str) or not body[field]:
            raise HTTPError(400, "field '%s' is required" % field)
    msg = {k: body[k] for k in ("from", "to", "subject", "text")}
    with lock:
        msg["id"] = "msg-%d" % next(ids)
        msg["received_at"] = time.time()
        messages.append(msg)
    return 202, {"id": msg["id"]}


@app.route("GET", "/messages")
def list_messages(req):
    to = req.arg("to")
    with lock:
        return 200, [m for m in messages if to is None or m["to"] == to]


@app.route("DELETE", "/messages")
def clear(req):
    with lock:
        messages.clear()
    return 204, None


if __name__ == "__main__":
    exit_on_sigterm()
    app.serve(int(os.environ.get("PORT", "8025")))
