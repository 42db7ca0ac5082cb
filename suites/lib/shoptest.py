"""The example suites' harness: tests are plain functions, the standard
library is enough, and the result is a line per test, a JUnit XML file and
the exit status `orchestrate test` reads (0 when every test passed).

    from shoptest import test, check, eq, run, http, url
    @test
    def catalogue_is_served():
        r = http("GET", url("api", 8080) + "/products")
        eq(r.status, 200, "status")
    run("cart")

Where services are: in a container suite, by their names on the run's
network (http://api:8080); in a host suite, through the published ports
orchestrate passes as ORCH_<SERVICE>_HOST and ORCH_<SERVICE>_PORT_<N>.
A variable <SERVICE>_URL (API_URL=http://127.0.0.1:8080) overrides both,
for running a suite by hand.

The JUnit file goes to $JUNIT_FILE, by default /out/junit.xml when /out
exists (the suites' image has it), else nowhere.
"""

import json
import os
import sys
import time
import traceback
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

_tests = []


class Failure(AssertionError):
    pass


def test(fn):
    _tests.append(fn)
    return fn


def check(cond, message):
    if not cond:
        raise Failure(message)


def eq(got, want, what):
    if got != want:
        raise Failure("%s: got %r, want %r" % (what, got, want))


def stubs():
    """Services that are stubs in this stage (ORCH_STUBS), as a set."""
    return set(os.environ.get("ORCH_STUBS", "").split())


def unique(prefix):
    """A name no other run or attempt uses: e-mail addresses, cart ids."""
    return "%s-%s-%d-%d" % (prefix, os.environ.get("ORCH_RUN_ID", "local"),
                            os.getpid(), int(time.monotonic() * 1000) % 10**7)


def url(service, port):
    """The base URL of a service's port, from wherever the suite runs."""
    name = service.upper().replace("-", "_")
    if os.environ.get(name + "_URL"):
        return os.environ[name + "_URL"].rstrip("/")
    host = os.environ.get("ORCH_%s_HOST" % name)
    hport = os.environ.get("ORCH_%s_PORT_%d" % (name, port))
    if host and hport:
        return "http://%s:%s" % (host, hport)
    return "http://%s:%d" % (service, port)


class Response:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None
        self.text = raw.decode(errors="replace")

    def __repr__(self):
        return "%d %s" % (self.status, self.text.strip()[:300])


def http(method, target, body=None, headers=None, timeout=10):
    """One request; every status is an answer (Response), a connection
    failure a Failure naming the target."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(target, data=data, headers=hdrs, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Response(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, e.headers, e.read())
    except (urllib.error.URLError, OSError) as e:
        raise Failure("%s %s: %s" % (method, target, getattr(e, "reason", e)))


def expect(r, status, what):
    """r's status must be status; the failure shows the answer's body."""
    if r.status != status:
        raise Failure("%s: got %r, want status %d" % (what, r, status))
    return r.json


def wait_for(fn, what, timeout=15.0):
    """fn() until it returns something true, or a Failure after timeout."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() >= deadline:
            raise Failure("%s: not within %gs (last: %r)" % (what, timeout, got))
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def db():
    """A connection to the shop's database (autocommit), for checking what
    a service wrote."""
    import psycopg2
    conn = psycopg2.connect(host=os.environ.get("DB_HOST", "db"),
                            port=int(os.environ.get("DB_PORT", "5432")),
                            dbname="shop", user="shop", connect_timeout=5)
    conn.autocommit = True
    return conn


def query(conn, sql, args=()):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else None


def redis():
    import redis as r
    return r.Redis(host=os.environ.get("REDIS_HOST", "cache"),
                   port=int(os.environ.get("REDIS_PORT", "6379")),
                   socket_timeout=5, decode_responses=True)


def _junit(suite, results, elapsed, path):
    ts = ET.Element("testsuite", name=suite, tests=str(len(results)),
                    failures=str(sum(1 for r in results if r[1] == "failure")),
                    errors=str(sum(1 for r in results if r[1] == "error")),
                    time="%.3f" % elapsed)
    for name, outcome, secs, message, detail in results:
        tc = ET.SubElement(ts, "testcase", classname=suite, name=name,
                           time="%.3f" % secs)
        if outcome != "ok":
            el = ET.SubElement(tc, outcome, message=message)
            el.text = detail
    root = ET.Element("testsuites")
    root.append(ts)
    tmp = path + ".tmp"
    ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
    os.replace(tmp, path)


def run(suite):
    """Run the tests in the order they were defined; exit 0 if all passed."""
    where = os.environ.get("ORCH_STRATEGY")
    if where:
        print("%s: strategy %s, stage %s, stubs: %s" % (
            suite, where, os.environ.get("ORCH_STAGE", "?"),
            os.environ.get("ORCH_STUBS") or "none"))
    results = []
    t_all = time.monotonic()
    for fn in _tests:
        name = fn.__name__
        t0 = time.monotonic()
        try:
            fn()
            outcome, message, detail = "ok", "", ""
        except Failure as e:
            outcome, message, detail = "failure", str(e), str(e)
        except Exception as e:
            outcome = "error"
            message = "%s: %s" % (type(e).__name__, str(e).strip())
            detail = traceback.format_exc()
        secs = time.monotonic() - t0
        results.append((name, outcome, secs, message, detail))
        if outcome == "ok":
            print("ok    %s (%.2fs)" % (name, secs))
        else:
            print("FAIL  %s (%.2fs): %s" % (name, secs, message))
        sys.stdout.flush()
    elapsed = time.monotonic() - t_all
    failed = sum(1 for r in results if r[1] != "ok")
    print("%s: %d passed, %d failed in %.2fs" % (suite, len(results) - failed,
                                                 failed, elapsed))
    path = os.environ.get("JUNIT_FILE") or ("/out/junit.xml" if os.path.isdir("/out") else "")
    if path:
        _junit(suite, results, elapsed, path)
    sys.exit(1 if failed else 0)
