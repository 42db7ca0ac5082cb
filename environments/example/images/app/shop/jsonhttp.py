"""A small JSON-over-HTTP server on the standard library.

The API, the worker's status endpoint and every stub are built on it:
routes are (method, regular expression) pairs, handlers take the request
and return (status, body) or (status, body, headers), where a body that is
not bytes or str is sent as JSON. An HTTPError raised anywhere becomes its
JSON answer; any other exception a 500 naming it (a test environment: the
suites print what went wrong). One line per request goes to stdout.

Not a framework: no keep-alive, no streaming, no TLS.
"""

import json
import os
import re
import signal
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class HTTPError(Exception):
    """An answer other than success: status, message and extra fields."""

    def __init__(self, status, message, **extra):
        super().__init__(message)
        self.status = status
        self.body = dict(error=message, **extra)


class Request:
    def __init__(self, method, path, query, headers, raw):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.raw = raw
        self.params = {}

    def arg(self, name, default=None):
        values = self.query.get(name)
        return values[0] if values else default

    def json(self):
        """The body as a JSON object; 400 when it is not one."""
        if not self.raw:
            raise HTTPError(400, "request body must be a JSON object")
        try:
            body = json.loads(self.raw)
        except ValueError as e:
            raise HTTPError(400, "request body is not JSON: %s" % e)
        if not isinstance(body, dict):
            raise HTTPError(400, "request body must be a JSON object")
        return body


class App:
    def __init__(self, name):
        self.name = name
        self.routes = []

    def route(self, method, pattern):
        def add(fn):
            self.routes.append((method, re.compile("^" + pattern + "$"), fn))
            return fn
        return add

    def dispatch(self, req):
        allowed = False
        for method, rx, fn in self.routes:
            m = rx.match(req.path)
            if not m:
                continue
            if method != req.method:
                allowed = True
                continue
            req.params = m.groupdict()
            return fn(req)
        if allowed:
            raise HTTPError(405, "method %s not allowed on %s" % (req.method, req.path))
        raise HTTPError(404, "no such resource: %s" % req.path)

    def serve(self, port):
        app = self

        class Handler(BaseHTTPRequestHandler):
            server_version = app.name

            def handle_any(self):
                t0 = time.monotonic()
                url = urlsplit(self.path)
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n > 0 else b""
                req = Request(self.command, url.path, parse_qs(url.query),
                              self.headers, raw)
                headers = {}
                try:
                    out = app.dispatch(req)
                    status, body = out[0], out[1]
                    if len(out) > 2:
                        headers = out[2]
                except HTTPError as e:
                    status, body = e.status, e.body
                except Exception as e:
                    traceback.print_exc()
                    status = 500
                    body = {"error": "internal error",
                            "detail": "%s: %s" % (type(e).__name__,
                                                  str(e).strip().splitlines()[0] if str(e).strip() else "")}
                if body is None:
                    data, ctype = b"", None
                elif isinstance(body, bytes):
                    data, ctype = body, "application/octet-stream"
                elif isinstance(body, str):
                    data, ctype = body.encode(), "text/plain; charset=utf-8"
                else:
                    data, ctype = (json.dumps(body) + "\n").encode(), "application/json"
                self.send_response(status)
                if ctype and "Content-Type" not in headers:
                    self.send_header("Content-Type", ctype)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                ms = (time.monotonic() - t0) * 1000
                print("%s %s %d %.0fms" % (self.command, self.path, status, ms),
                      flush=True)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any

            def log_message(self, fmt, *args):
                pass  # one line per request is printed above

        server = ThreadingHTTPServer(("", port), Handler)
        server.daemon_threads = True
        print("%s: listening on port %d" % (self.name, port), flush=True)
        server.serve_forever()


def exit_on_sigterm():
    """Exit at once on SIGTERM: as PID 1 a process without a handler would
    ignore it, and `docker stop` would wait its whole grace period."""
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        sys.exit("%s: environment variable %s is not set" % (sys.argv[0], name))
    return value


def call(method, url, body=None, headers=None, timeout=5):
    """A JSON request to another service: (status, decoded body). HTTP
    error statuses are answers, not exceptions; a connection failure or a
    timeout raises OSError (socket.timeout is one)."""
    import urllib.error
    import urllib.request
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=hdrs, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    except urllib.error.URLError as e:
        reason = e.reason
        raise reason if isinstance(reason, OSError) else OSError(str(reason))
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")
