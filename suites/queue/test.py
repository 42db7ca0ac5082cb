"""queue: component integration, the API and the worker through Redis.

Targets api, worker and cache: a customer signs up through the API, which
queues the welcome e-mail in Redis; the real worker takes the job, sends
the e-mail (the mailer stub keeps it) and marks the customer, which the
API then shows. Also the API's view of the worker (/status). Sign-up does
not touch the orders table, so this suite passes in the broken variant
and clears the edges api -> cache, api -> worker and worker -> cache.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from shoptest import check, eq, expect, http, run, test, unique, url, wait_for  # noqa: E402

API = url("api", 8080)
MAILER = url("mailer", 8025)


@test
def sign_up_reaches_the_worker():
    email = unique("queue") + "@example.test"
    c = expect(http("POST", API + "/customers", {"email": email, "name": "Grace"}),
               201, "POST /customers")
    eq(c["welcome_sent_at"], None, "welcome_sent_at right after sign-up")
    done = wait_for(lambda: expect(http("GET", API + "/customers/%d" % c["id"]), 200,
                                   "GET /customers/<id>")["welcome_sent_at"],
                    "the worker marking the welcome e-mail sent")
    check(done, "welcome_sent_at")
    msgs = expect(http("GET", MAILER + "/messages?to=" + email), 200, "mailer messages")
    eq(len(msgs), 1, "welcome e-mails sent")
    check("Grace" in msgs[0]["subject"], "subject: %r" % msgs[0]["subject"])


@test
def duplicate_sign_up_queues_nothing():
    email = unique("dup") + "@example.test"
    c = expect(http("POST", API + "/customers", {"email": email, "name": "Hedy"}), 201,
               "first sign-up")
    expect(http("POST", API + "/customers", {"email": email, "name": "Hedy"}), 409,
           "second sign-up")
    wait_for(lambda: http("GET", API + "/customers/%d" % c["id"]).json["welcome_sent_at"],
             "the first welcome e-mail")
    eq(len(http("GET", MAILER + "/messages?to=" + email).json), 1, "e-mails sent")


@test
def status_shows_the_real_worker():
    s = expect(http("GET", API + "/status"), 200, "GET /status")
    eq(s["api"], "ok", "api")
    check("error" not in s["worker"], "the API reaches the worker: %r" % s["worker"])
    check("stub" not in s["worker"], "the worker is real: %r" % s["worker"])
    check(isinstance(s["queue"], int), "queue length: %r" % s["queue"])
    processed = s["worker"]["processed"]
    email = unique("count") + "@example.test"
    expect(http("POST", API + "/customers", {"email": email, "name": "Alan"}), 201, "sign-up")
    wait_for(lambda: http("GET", API + "/status").json["worker"]["processed"] > processed,
             "the worker's processed counter, seen through the API")


run("queue")
