"""The shop's background worker.

Takes jobs from the Redis list shop:jobs (the API queues them), one at a
time:

  {"type": "welcome", "customer_id": n}  send the welcome e-mail, mark the
                                         customer (welcome_sent_at)
  {"type": "fulfil", "order_id": n}      ship the order: a shipments row with
                                         a tracking number, the order
                                         'fulfilled', the shipping e-mail

Every e-mail goes through the e-mail service (MAILER_URL, POST /messages)
and is recorded in the table emails. A job that fails is pushed to
shop:jobs:failed with the error, and the worker goes on.

Port 8081: GET /health (200 when PostgreSQL and Redis answer) and
GET /stats ({"processed", "failed", "queue"}), which the API reports.

The worker does not wait for the migration job: it touches tables only
for a job, and jobs come from the API, which waits for the migration.
"""

import json
import os
import threading
import time

import psycopg2
import redis

from shop import db
from shop.jsonhttp import App, call, exit_on_sigterm

QUEUE = "shop:jobs"
FAILED = "shop:jobs:failed"
SENDER = "shop@example.test"

MAILER_URL = os.environ.get("MAILER_URL", "http://mailer:8025").rstrip("/")

stats = {"processed": 0, "failed": 0}
lock = threading.Lock()
status = App("shop-worker")
r = None
pool = None


@status.route("GET", "/health")
def health(req):
    try:
        with pool.cursor() as cur:
            cur.execute("SELECT 1")
        r.ping()
    except Exception as e:
        return 503, {"status": "unavailable", "detail": str(e).strip()}
    return 200, {"status": "ok"}


@status.route("GET", "/stats")
def get_stats(req):
    with lock:
        out = dict(stats)
    out["queue"] = r.llen(QUEUE)
    return 200, out


def send_mail(cur, kind, to, subject, text):
    code, body = call("POST", MAILER_URL + "/messages",
                      {"from": SENDER, "to": to, "subject": subject, "text": text},
                      timeout=5)
    if code not in (200, 201, 202) or not isinstance(body, dict) or "id" not in body:
        raise RuntimeError("e-mail service answered %d: %s" % (code, body))
    cur.execute("INSERT INTO emails (kind, recipient, subject, provider_id)"
                " VALUES (%s, %s, %s, %s)", (kind, to, subject, body["id"]))


def welcome(cur, job):
    cur.execute("SELECT email, name, welcome_sent_at FROM customers WHERE id = %s"
                " FOR UPDATE", (job["customer_id"],))
    c = cur.fetchone()
    if c is None:
        raise LookupError("no customer %s" % job["customer_id"])
    if c["welcome_sent_at"] is not None:
        return  # a job delivered twice sends one e-mail
    send_mail(cur, "welcome", c["email"], "Welcome to the shop, %s" % c["name"],
              "Hello %s,\n\nyour account is ready.\n" % c["name"])
    cur.execute("UPDATE customers SET welcome_sent_at = now() WHERE id = %s",
                (job["customer_id"],))


def fulfil(cur, job):
    order_id = job["order_id"]
    cur.execute("SELECT id, customer_email, status FROM orders WHERE id = %s"
                " FOR UPDATE", (order_id,))
    o = cur.fetchone()
    if o is None:
        raise LookupError("no order %s" % order_id)
    if o["status"] == "fulfilled":
        return
    cur.execute("SELECT p.name, i.quantity FROM order_items i"
                " JOIN products p ON p.id = i.product_id WHERE i.order_id = %s"
                " ORDER BY p.name", (order_id,))
    lines = ["%d x %s" % (i["quantity"], i["name"]) for i in cur.fetchall()]
    tracking = "TRK%08d" % order_id
    cur.execute("INSERT INTO shipments (order_id, tracking) VALUES (%s, %s)",
                (order_id, tracking))
    cur.execute("UPDATE orders SET status = 'fulfilled' WHERE id = %s", (order_id,))
    send_mail(cur, "shipped", o["customer_email"],
              "Your order %d is on its way" % order_id,
              "Shipped:\n  %s\nTracking number: %s\n" % ("\n  ".join(lines), tracking))


HANDLERS = {"welcome": welcome, "fulfil": fulfil}


def handle(raw):
    try:
        job = json.loads(raw)
        handler = HANDLERS[job["type"]]
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError("malformed job %r: %s" % (raw, e))
    # the e-mail is sent inside the transaction: if it fails nothing is
    # recorded, and the job lands in the failed list
    with pool.cursor() as cur:
        handler(cur, job)
    return job


def work():
    while True:
        try:
            item = r.brpop(QUEUE, timeout=1)
        except redis.RedisError as e:
            print("worker: redis: %s" % e, flush=True)
            time.sleep(0.5)
            continue
        if item is None:
            continue
        raw = item[1]
        t0 = time.monotonic()
        try:
            job = handle(raw)
        except (Exception, psycopg2.Error) as e:
            with lock:
                stats["failed"] += 1
            print("worker: job failed: %s: %s" % (raw, e), flush=True)
            r.lpush(FAILED, json.dumps({"job": raw, "error": str(e).strip()}))
            continue
        with lock:
            stats["processed"] += 1
        print("worker: %s done in %.0fms" % (json.dumps(job), (time.monotonic() - t0) * 1000),
              flush=True)


def main():
    global r, pool
    exit_on_sigterm()
    db.connect().close()
    pool = db.Pool(maxconn=4)
    r = redis.Redis(host=os.environ.get("REDIS_HOST", "cache"),
                    port=int(os.environ.get("REDIS_PORT", "6379")),
                    socket_timeout=5, decode_responses=True)
    threading.Thread(target=status.serve, args=(int(os.environ.get("PORT", "8081")),),
                     daemon=True).start()
    work()


if __name__ == "__main__":
    main()
