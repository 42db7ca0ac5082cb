"""fakeunix.py: the HTTP-over-a-unix-socket server that the cli tests'
scripted fake engines answer on (teardown.py, up-faults.py, stdin.py).

A test subclasses Handler, defines any() (every method lands there) and
answers with reply(); serve() runs it on a socket in a daemon thread.
"""
import http.server
import json
import socketserver
import sys
import threading


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    # a stream held open must not hold the next case
    block_on_close = False

    def handle_error(self, request, client_address):
        # a client that hung up (a cancelled or finished call) is normal
        if not isinstance(sys.exc_info()[1], (BrokenPipeError,
                                              ConnectionResetError)):
            super().handle_error(request, client_address)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def address_string(self):
        return "fake"

    def body(self):
        """The request body, as bytes."""
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, status, data):
        """A whole answer: data as JSON ("OK" for a 200 without data, as
        the engine's /_ping)."""
        out = b"OK" if data is None and status == 200 else \
            (json.dumps(data).encode() if data is not None else b"")
        self.send_response(status)
        self.send_header("Api-Version", "1.41")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def any(self):
        raise NotImplementedError

    def do_GET(self):
        self.any()

    do_POST = do_DELETE = do_HEAD = do_PUT = do_GET


def serve(sock_path, handler):
    """Serve handler (a Handler subclass) on sock_path until exit."""
    srv = Server(sock_path, handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv
