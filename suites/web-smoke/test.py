"""web-smoke: the web front and the API behind it.

Targets web: nginx serves the page and its assets, and passes /api/ to
whatever answers as "api" -- its stub first in top-down and sandwich, the
real API later (nginx resolves the name per request, so the swap is seen).
Nothing here touches orders: the suite passes in the broken variant and
clears the edge web -> api.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from shoptest import check, eq, expect, http, run, stubs, test, url  # noqa: E402

WEB = url("web", 80)


@test
def page_and_assets():
    r = http("GET", WEB + "/")
    expect(r, 200, "GET /")
    check(r.headers.get("Content-Type", "").startswith("text/html"),
          "Content-Type %r" % r.headers.get("Content-Type"))
    check("<h1>Example shop</h1>" in r.text, "the shop's heading in %r" % r.text[:200])
    for asset, ctype in (("/shop.js", "javascript"), ("/shop.css", "text/css")):
        a = http("GET", WEB + asset)
        expect(a, 200, "GET " + asset)
        check(ctype in a.headers.get("Content-Type", ""), "%s: Content-Type %r"
              % (asset, a.headers.get("Content-Type")))
    expect(http("GET", WEB + "/missing.html"), 404, "a missing page")


@test
def api_behind_the_front():
    eq(expect(http("GET", WEB + "/api/health"), 200, "GET /api/health"), {"status": "ok"},
       "health through the front")
    s = expect(http("GET", WEB + "/api/status"), 200, "GET /api/status")
    want = "stub" if "api" in stubs() else "ok"
    eq(s["api"], want, "what answers as api (ORCH_STUBS=%r)" % " ".join(sorted(stubs())))


@test
def catalogue_through_the_front():
    ps = expect(http("GET", WEB + "/api/products"), 200, "GET /api/products")
    check({"mug", "tee", "sticker"} <= {p["sku"] for p in ps}, "the catalogue: %r" % ps)
    expect(http("GET", WEB + "/api/products/nope"), 404, "an unknown product")


run("web-smoke")
