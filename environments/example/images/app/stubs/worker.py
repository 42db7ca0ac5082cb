"""The worker's stub (port 8081): what the API sees of the worker, its
status endpoint, with counters that never move. It takes no jobs: with it
in place, orders stay 'paid' and no e-mail is sent, and the suites that
need the real worker do not run yet (ORCH_STUBS names it).
"""

import os

from shop.jsonhttp import App, exit_on_sigterm

app = App("worker-stub")


@app.route("GET", "/health")
def health(req):
    return 200, {"status": "ok"}


@app.route("GET", "/stats")
def stats(req):
    return 200, {"processed": 0, "failed": 0, "queue": 0, "stub": True}


if __name__ == "__main__":
    exit_on_sigterm()
    app.serve(int(os.environ.get("PORT", "8081")))
