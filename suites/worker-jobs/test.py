"""worker-jobs: component integration, the worker between its queue, its
database and the e-mail service.

Targets worker, cache and db: jobs are pushed into Redis by hand (the API
is not needed), and the suite checks what the worker wrote to PostgreSQL
and sent through the e-mail stub (mailer). Runs wherever the worker is
real, whatever the API is.
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from shoptest import (check, db, eq, expect, http, query, redis, run, test,  # noqa: E402
                      unique, url, wait_for)

conn = db()
r = redis()
MAILER = url("mailer", 8025)
WORKER = url("worker", 8081)


def mails_to(address):
    return expect(http("GET", MAILER + "/messages?to=" + address), 200, "mailer messages")


@test
def worker_is_healthy_and_real():
    eq(expect(http("GET", WORKER + "/health"), 200, "worker health"), {"status": "ok"},
       "health")
    stats = expect(http("GET", WORKER + "/stats"), 200, "worker stats")
    check("stub" not in stats, "the worker answering is a stub: %r" % stats)


@test
def welcome_job_sends_and_records_the_mail():
    email = unique("worker") + "@example.test"
    (cid,), = query(conn, "INSERT INTO customers (email, name) VALUES (%s, 'Ada')"
                          " RETURNING id", (email,))
    r.lpush("shop:jobs", json.dumps({"type": "welcome", "customer_id": cid}))
    msgs = wait_for(lambda: mails_to(email), "the welcome e-mail to %s" % email)
    eq(len(msgs), 1, "e-mails sent")
    check("Ada" in msgs[0]["subject"], "subject names the customer: %r" % msgs[0])
    sent = wait_for(lambda: query(conn, "SELECT welcome_sent_at FROM customers"
                                        " WHERE id = %s", (cid,))[0][0],
                    "welcome_sent_at set")
    check(sent is not None, "welcome_sent_at")
    rows = query(conn, "SELECT kind, subject, provider_id FROM emails WHERE recipient = %s",
                 (email,))
    eq([(k, p) for k, _, p in rows], [("welcome", msgs[0]["id"])],
       "the e-mail recorded with the provider's id")


@test
def a_job_delivered_twice_sends_one_mail():
    email = unique("twice") + "@example.test"
    (cid,), = query(conn, "INSERT INTO customers (email, name) VALUES (%s, 'Bo')"
                          " RETURNING id", (email,))
    job = json.dumps({"type": "welcome", "customer_id": cid})
    r.lpush("shop:jobs", job, job)
    wait_for(lambda: r.llen("shop:jobs") == 0 and mails_to(email), "both jobs taken")
    wait_for(lambda: query(conn, "SELECT welcome_sent_at FROM customers WHERE id = %s",
                           (cid,))[0][0], "welcome_sent_at")
    eq(len(mails_to(email)), 1, "e-mails sent for one customer")


@test
def a_bad_job_is_set_aside_and_the_worker_goes_on():
    before = expect(http("GET", WORKER + "/stats"), 200, "stats")["failed"]
    marker = unique("bad")
    r.lpush("shop:jobs", json.dumps({"type": "unknown", "marker": marker}))
    wait_for(lambda: any(marker in j for j in r.lrange("shop:jobs:failed", 0, -1)),
             "the bad job in shop:jobs:failed")
    after = expect(http("GET", WORKER + "/stats"), 200, "stats")["failed"]
    eq(after, before + 1, "failed counter")
    expect(http("GET", WORKER + "/health"), 200, "worker health after a bad job")


run("worker-jobs")
