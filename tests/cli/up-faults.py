#!/usr/bin/env python3
"""up-faults.py: `up` against a scripted fake engine (suite cli).

Faults a real engine shows only at its worst, checked the way a user
meets them -- exit status, the message, and that the run is removed:

- a pull whose stream stops sending, and a build whose output stops:
  both fail at the stall limit (ORCHESTRATE_STALL_TIMEOUT, short here),
  exit 3, with a message naming the service and the image;
- the build again with the manifest piped in (`-f -`): the context and
  the project name come from the current directory;
- a declared volume whose name is taken: volume create answers 201 with
  the existing volume, as Docker does; `up` sees from its labels that it
  is not this run's, exits 3 naming it, and neither uses nor removes it;
- no address pool left for the run's network (leaked networks use them
  up): exit 3, the message names the network and says to try
  `orchestrate gc`;
- a signal during a synchronous step -- a pull or an image inspect that
  sends nothing, a network or volume create that is never answered (the
  object made, as Docker makes it, but no answer) or answered late (the
  object appears only then): `up` drops the request at once (a create
  is let finish for up to 3 s, so that what it makes is removed too),
  issues the teardown of its run and exits 130/143 within a second or
  three, leaving nothing of the run behind; a create the engine answers
  only after `up` gave up on it and exited: the watchdog, told of the
  create, removes what it makes.

The fake keeps the objects `up` creates and answers the label listings
of the teardown from them, so "nothing left" means what it says. TAP
output.

usage: up-faults.py ORCHESTRATE
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import fakeunix

LP = "io.orchestrate."
LATE_S = 0.8  # how late the "network-late" engine answers
# how late the "network-later" engine makes the network and answers: after
# up gave up waiting (3 s) and exited
LATER_S = 4.5
# how long the "network-slow-rm" engine takes over its first network
# removal: longer than an interrupted teardown may take (6 s)
SLOW_RM_S = 8.0
# Docker's refusal when its default address pools are used up (leaked
# networks, usually: about 30 fit)
POOL_MESSAGE = ("could not find an available, non-overlapping IPv4 address "
                "pool among the defaults to assign to the network")
results = []


def ok(cond, what):
    results.append(cond)
    print(("ok" if cond else "not ok") + " %d - %s" % (len(results), what))
    sys.stdout.flush()


class Engine:
    """The objects `up` created; scripted images; a request log."""

    def __init__(self):
        self.networks = {}  # id -> {"Name", "Labels"}
        self.volumes = {}   # name -> labels
        self.taken = {}     # name suffix -> labels of a volume that exists
        self.log = []
        self.lock = threading.Lock()
        # requests that hang: "pull", "inspect", "network", "volume"
        # (never answered), "network-late" (made and answered after
        # LATE_S) or "network-later" (after LATER_S: once up is gone)
        self.hang = set()
        self.arrived = threading.Event()  # a hanging request came
        self.closed = {}  # path -> when the client dropped the request
        self.answered = {}  # path -> when a late answer was sent
        self.no_pool = False  # network creates: address pools used up
        self.slow_rm = False  # the slow network removal came

    def new_network(self, body):
        with self.lock:
            return self.new_network_locked(body)

    def new_network_locked(self, body):
        nid = "net%d" % (len(self.networks) + 1)
        self.networks[nid] = {"Name": body["Name"],
                              "Labels": body.get("Labels", {})}
        return 201, {"Id": nid, "Warning": ""}

    def matches(self, lab, query):
        f = urllib.parse.parse_qs(query).get("filters")
        want = json.loads(f[0]).get("label", []) if f else []
        return all(lab.get(w.split("=", 1)[0]) == w.split("=", 1)[1]
                   if "=" in w else w in lab for w in want)

    def route(self, method, path, body):
        """(status, json) for an ordinary answer; ("stall", line) for a
        200 stream that sends one line and then nothing."""
        with self.lock:
            self.log.append((method, path))
            url = urllib.parse.urlsplit(path)
            if url.path == "/_ping":
                return 200, None
            if not url.path.startswith("/v1.41/"):
                return 400, {"message": "unversioned request"}
            p = url.path[len("/v1.41"):]
            parts = p.strip("/").split("/")
            q = url.query
            if method == "POST" and p == "/networks/create":
                if self.no_pool:
                    return 500, {"message": POOL_MESSAGE}
                for mode, delay in (("network-late", LATE_S),
                                    ("network-later", LATER_S)):
                    if mode in self.hang:
                        # made and answered only after a while: a
                        # loaded engine
                        self.arrived.set()
                        return "late", (delay,
                                        lambda: self.new_network(body))
                status, data = self.new_network_locked(body)
                if "network" in self.hang:
                    # Docker makes the network; the answer never comes
                    self.arrived.set()
                    return "silent", None
                return status, data
            if method == "POST" and p == "/volumes/create":
                name = body["Name"]
                if "volume" in self.hang:
                    self.volumes[name] = body.get("Labels", {})
                    self.arrived.set()
                    return "silent", None
                for suffix, lab in self.taken.items():
                    if name.endswith(suffix):
                        # it was there before: Docker hands it back
                        self.volumes.setdefault(name, lab)
                lab = self.volumes.setdefault(name, body.get("Labels", {}))
                return 201, {"Name": name, "Driver": "local",
                             "Labels": lab}
            if method == "GET" and p == "/events":
                return "hold", None
            if method == "GET" and parts[0] == "images":
                if "inspect" in self.hang:
                    self.arrived.set()
                    return "silent", None
                return 404, {"message": "No such image: " +
                             urllib.parse.unquote(parts[1])}
            if method == "POST" and p == "/images/create":
                if "pull" in self.hang:
                    # a registry that never answers: not even headers
                    self.arrived.set()
                    return "silent", None
                return "stall", {"status": "Pulling fs layer", "id": "1"}
            if method == "POST" and p == "/build":
                return "stall", {"stream": "Step 1/2 : FROM scratch\n"}
            if method == "GET" and p == "/containers/json":
                return 200, []
            if method == "GET" and p == "/networks":
                return 200, [{"Id": k, "Name": v["Name"],
                              "Labels": v["Labels"]}
                             for k, v in self.networks.items()
                             if self.matches(v["Labels"], q)]
            if method == "GET" and p == "/volumes":
                return 200, {"Volumes": [
                    {"Name": k, "Labels": v}
                    for k, v in self.volumes.items()
                    if self.matches(v, q)]}
            if method == "DELETE" and parts[0] == "networks":
                if "network-slow-rm" in self.hang and not self.slow_rm:
                    # a busy engine: the first removal takes SLOW_RM_S
                    self.slow_rm = True
                    return "late", (SLOW_RM_S, lambda: self.route(
                        method, path, body))
                if self.networks.pop(parts[1], None) is not None:
                    return 204, None
                return 404, {"message": "no such network"}
            if method == "DELETE" and parts[0] == "volumes":
                if self.volumes.pop(urllib.parse.unquote(parts[1]),
                                    None) is not None:
                    return 204, None
                return 404, {"message": "no such volume"}
            return 500, {"message": "fake engine: unexpected %s %s" %
                         (method, path)}

    def calls(self, method, prefix):
        return [p for m, p in self.log
                if m == method and p.startswith(prefix)]


def serve(engine, sock_path):
    class Handler(fakeunix.Handler):
        def hold(self, first=None):
            """A 200 stream: one line, then silence until the client
            goes away."""
            self.send_response(200)
            self.send_header("Api-Version", "1.41")
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            if first is not None:
                self.wfile.write(json.dumps(first).encode() + b"\n")
            self.wfile.flush()
            self.close_connection = True
            while self.rfile.read(1):
                pass

        def silent(self):
            """No answer at all, until the client goes away."""
            self.close_connection = True
            while self.rfile.read(1):
                pass
            with engine.lock:
                engine.closed[self.path] = time.monotonic()

        def any(self):
            raw = self.body()
            body = None
            if raw and self.headers.get("Content-Type") == \
                    "application/json":
                body = json.loads(raw)
            status, data = engine.route(self.command, self.path, body)
            if status in ("stall", "hold"):
                self.hold(data)
                return
            if status == "silent":
                self.silent()
                return
            if status == "late":
                # made whether or not the client still waits, as Docker
                # does
                delay, make = data
                time.sleep(delay)
                status, data = make()
                with engine.lock:
                    engine.answered[self.path] = time.monotonic()
            try:
                self.reply(status, data)
            except OSError:
                pass

    srv = fakeunix.serve(sock_path, Handler)
    return srv


def up(orch, sock, workdir, manifest, extra_env=None, stdin=False):
    """`-p faults up` of manifest written to workdir/orchestrate.yaml;
    with stdin, `-f - up` of it piped in (the project from workdir)."""
    env = dict(os.environ)
    env["DOCKER_HOST"] = "unix://" + sock
    env["ORCHESTRATE_WATCHDOG_LOG"] = os.path.join(workdir, "watchdog.log")
    env.pop("ORCHESTRATE_PROJECT", None)
    env.pop("ORCHESTRATE_FILE", None)
    env.pop("ORCHESTRATE_STALL_TIMEOUT", None)
    env.update(extra_env or {})
    if stdin:
        args = [orch, "-f", "-", "up"]
    else:
        args = [orch, "-p", "faults", "up"]
        with open(os.path.join(workdir, "orchestrate.yaml"), "w") as f:
            f.write(manifest)
    t0 = time.monotonic()
    p = subprocess.run(args, cwd=workdir, env=env, capture_output=True,
                       text=True, timeout=60,
                       input=manifest if stdin else None)
    p.seconds = time.monotonic() - t0
    print("# orchestrate up: exit %d after %.1fs: %s" % (
        p.returncode, p.seconds,
        p.stderr.strip()[-900:].replace("\n", " | ")))
    return p


def case(orch, tmp, manifest, extra_env=None, setup=None, stdin=False):
    """Run `up` of manifest on a fresh fake engine: (process, engine)."""
    sock = os.path.join(tmp, "engine.sock")
    e = Engine()
    if setup:
        setup(e)
    srv = serve(e, sock)
    try:
        p = up(orch, sock, tmp, manifest, extra_env, stdin)
    finally:
        srv.shutdown()
        srv.server_close()
        os.unlink(sock)
    return p, e


def interrupted(orch, tmp, manifest, hang, sig, watchdog_says="owner gone"):
    """Run `up` of manifest on a fake engine where the requests in hang
    hang; send sig 0.2 s after the first of them arrived. Returns the
    process (.seconds: from the signal to its exit, .signalled_at), the
    engine and the run id. A watchdog left armed is given 10 s to write
    watchdog_says to its log before the engine goes."""
    sock = os.path.join(tmp, "engine.sock")
    wdlog = os.path.join(tmp, "watchdog.log")
    e = Engine()
    e.hang = set(hang)
    srv = serve(e, sock)
    env = dict(os.environ)
    env["DOCKER_HOST"] = "unix://" + sock
    env["ORCHESTRATE_WATCHDOG_LOG"] = wdlog
    env.pop("ORCHESTRATE_PROJECT", None)
    env.pop("ORCHESTRATE_STALL_TIMEOUT", None)
    with open(os.path.join(tmp, "orchestrate.yaml"), "w") as f:
        f.write(manifest)
    try:
        p = subprocess.Popen([orch, "-p", "faults", "up"], cwd=tmp, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        p.arrived = e.arrived.wait(20)
        time.sleep(0.2)
        p.signalled_at = time.monotonic()
        p.send_signal(sig)
        try:
            p.stdout_text, p.stderr_text = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.stdout_text, p.stderr_text = p.communicate()
        p.seconds = time.monotonic() - p.signalled_at
        # a watchdog left armed removes the run once more: let it finish
        # against this engine before it goes
        for _ in range(100):
            if os.path.exists(wdlog) and \
                    watchdog_says in open(wdlog).read():
                break
            if "watchdog" not in p.stderr_text:
                break
            time.sleep(0.1)
        p.watchdog = open(wdlog).read() if os.path.exists(wdlog) else ""
    finally:
        srv.shutdown()
        srv.server_close()
        os.unlink(sock)
    m = re.search(r"run ([0-9a-f]{12})", p.stderr_text)
    print("# orchestrate up: exit %d %.2fs after the signal: %s" % (
        p.returncode, p.seconds,
        p.stderr_text.strip()[-900:].replace("\n", " | ")))
    return p, e, m.group(1) if m else None


def run_torn_down(e, run):
    """The teardown of run was issued: each kind listed by its run-id
    label, the network removed."""
    want = urllib.parse.quote(json.dumps(LP + "run-id=" + run))[3:-3]
    listed = [path for prefix in ("/v1.41/containers/json",
                                  "/v1.41/networks?", "/v1.41/volumes?")
              for path in e.calls("GET", prefix) if want in path]
    return len(listed) >= 3 and e.calls("DELETE", "/v1.41/networks/")


def nothing_left(e):
    return not e.networks and not [
        n for n, lab in e.volumes.items()
        if lab.get(LP + "project") == "faults"]


def main():
    orch = os.path.abspath(sys.argv[1])
    stall = {"ORCHESTRATE_STALL_TIMEOUT": "1s"}

    # -- a pull that stops sending ---------------------------------------
    with tempfile.TemporaryDirectory() as tmp:
        p, e = case(orch, tmp, "services:\n  web:\n"
                    "    image: registry.invalid/stall/web:1\n", stall)
        ok(p.returncode == 3, "stalled pull: exit 3")
        ok("service 'web': image 'registry.invalid/stall/web:1'" in
           p.stderr and "stalled: no data from the engine for 1s" in
           p.stderr, "the message names the service and the image and "
           "says the pull stalled")
        ok(p.seconds < 15, "it fails at the stall limit, not at a "
           "request timeout (%.1fs)" % p.seconds)
        ok(len(e.calls("POST", "/v1.41/images/create")) == 1 and
           len(e.calls("DELETE", "/v1.41/networks/")) == 1 and
           nothing_left(e), "the run is removed")

    # -- a build whose output stops ---------------------------------------
    with tempfile.TemporaryDirectory() as tmp:
        os.mkdir(os.path.join(tmp, "api"))
        with open(os.path.join(tmp, "api", "Dockerfile"), "w") as f:
            f.write("FROM scratch\nCOPY Dockerfile /\n")
        p, e = case(orch, tmp, "services:\n  api:\n    build: api\n",
                    stall)
        ok(p.returncode == 3, "stalled build: exit 3")
        ok("service 'api': building image 'faults-api:orchestrate' from "
           in p.stderr and "POST /v1.41/build: stalled: no data from the "
           "engine for 1s" in p.stderr,
           "the message names the service and the image and says the "
           "build stalled")
        ok(nothing_left(e), "the run is removed")

    # -- the same with the manifest piped in: `-f -` ----------------------
    # The current directory is the project directory: the relative build
    # context resolves there, and it names the project.
    with tempfile.TemporaryDirectory() as tmp:
        proj = os.path.join(os.path.realpath(tmp), "From_Stdin")
        os.makedirs(os.path.join(proj, "api"))
        with open(os.path.join(proj, "api", "Dockerfile"), "w") as f:
            f.write("FROM scratch\nCOPY Dockerfile /\n")
        p, e = case(orch, proj, "services:\n  api:\n    build: api\n",
                    stall, stdin=True)
        ok(p.returncode == 3 and "service 'api': building image "
           "'from_stdin-api:orchestrate' from '%s/api': POST /v1.41/build: "
           "stalled" % proj in p.stderr,
           "-f - up: the build context is relative to the current "
           "directory, which names the project")
        ok(not os.path.exists(os.path.join(proj, "orchestrate.yaml")) and
           len(e.calls("DELETE", "/v1.41/networks/")) == 1 and
           not e.networks, "-f - up: the run is removed")

    # -- a declared volume whose name is taken ----------------------------
    vol = ("services:\n  db:\n    image: local/busybox\n"
           "    volumes: ['taken:/data']\nvolumes:\n  taken: {}\n")
    foreign = {"com.example.team": "billing"}
    other_run = {LP + "project": "faults", LP + "run-id": "0123456789ab",
                 LP + "role": "volume"}
    for lab, why in ((foreign, "is not orchestrate's (no io.orchestrate. "
                      "labels)"),
                     (other_run, "is not this run's (it belongs to project "
                      "'faults', run '0123456789ab')")):
        with tempfile.TemporaryDirectory() as tmp:
            p, e = case(orch, tmp, vol,
                        setup=lambda e: e.taken.update({"-taken": lab}))
            mine = [n for n in e.volumes if n.endswith("-taken")]
            ok(p.returncode == 3, "volume name taken (%s): exit 3" %
               ("foreign" if lab is foreign else "another run"))
            ok(len(mine) == 1 and "orchestrate: volume 'taken': '%s' "
               "already exists and %s: orchestrate neither uses nor "
               "removes it" % (mine[0], why) in p.stderr,
               "the message names the volume and whose it is")
            ok(mine and e.volumes[mine[0]] == lab and
               not e.calls("DELETE", "/v1.41/volumes/"),
               "the volume is left alone by the teardown")
            # image inspects run beside the creates of the network and
            # volumes; no container is created before they are there
            ok(not e.calls("POST", "/v1.41/containers/") and
               len(e.calls("DELETE", "/v1.41/networks/")) == 1 and
               not e.networks, "nothing else was started; the run's "
               "network is removed")

    # -- signals during the synchronous steps -----------------------------
    web = "services:\n  web:\n    image: registry.invalid/hang/web:1\n"
    for hang, sig, what in ((("pull",), signal.SIGINT, "a pull that sends "
                             "nothing"),
                            (("inspect",), signal.SIGTERM, "an image "
                             "inspect that is never answered")):
        code = 130 if sig == signal.SIGINT else 143
        name = signal.Signals(sig).name
        with tempfile.TemporaryDirectory() as tmp:
            p, e, run = interrupted(orch, tmp, web, hang, sig)
            path = [k for k in e.closed if "/images/" in k]
            ok(p.arrived and p.returncode == code,
               "%s during %s: exit %d" % (name, what, code))
            ok(p.seconds < 1.5, "%s: gone %.2fs after the signal" %
               (what, p.seconds))
            ok(path and e.closed[path[0]] - p.signalled_at < 1.0,
               "%s: the request is dropped at once (%.2fs)" %
               (what, e.closed[path[0]] - p.signalled_at if path else -1))
            ok("interrupted by %s: removing run %s" % (name, run) in
               p.stderr_text and "could not be pulled" not in
               p.stderr_text, "%s: said so, and not as a failed pull" %
               what)
            ok(run and run_torn_down(e, run) and nothing_left(e),
               "%s: the run's teardown was issued; nothing of it is left"
               % what)

    # a create that was sent: the engine completes it whether or not we
    # listen, so teardown removes what it makes when the answer comes (it
    # waits up to 3 s for it)
    with tempfile.TemporaryDirectory() as tmp:
        p, e, run = interrupted(orch, tmp, web, ("network-late",),
                                signal.SIGINT)
        answered = e.answered.get("/v1.41/networks/create")
        deleted = [i for i, (m, path) in enumerate(e.log)
                   if m == "DELETE" and path.startswith("/v1.41/networks/")]
        ok(p.arrived and p.returncode == 130,
           "SIGINT during a network create answered late: exit 130")
        ok(p.seconds < 2.0, "gone %.2fs after the signal, the create "
           "answered %.2fs after it" % (
               p.seconds, answered - p.signalled_at if answered else -1))
        ok(answered and deleted and run and run_torn_down(e, run) and
           nothing_left(e), "the network made after the signal is "
           "removed too")
        ok("no answer" not in p.stderr_text and p.watchdog == "",
           "no warning; the watchdog was released")

    # a create answered only after up gave up on it and exited: the
    # watchdog, told that the create was in flight, removes what it made
    # (before, it looked once as up exited, found nothing, and the
    # network the engine made later was left)
    with tempfile.TemporaryDirectory() as tmp:
        p, e, run = interrupted(orch, tmp, web, ("network-later",),
                                signal.SIGINT, watchdog_says="removed "
                                "network 'faults-")
        answered = e.answered.get("/v1.41/networks/create")
        ok(p.arrived and p.returncode == 130 and p.seconds < 4.0,
           "SIGINT during a network create answered after up is gone: "
           "exit 130 after %.2fs" % p.seconds)
        ok("POST /v1.41/networks/create: no answer from the engine "
           "within 3s of the teardown" in p.stderr_text,
           "the message names the create still in flight")
        ok(answered and answered - p.signalled_at > p.seconds,
           "the engine made the network after up exited (%.2fs after the "
           "signal)" % (answered - p.signalled_at if answered else -1))
        ok(run and nothing_left(e) and
           "removed network 'faults-%s', made by a create answered after "
           "its owner was gone" % run in p.watchdog,
           "the watchdog removed the network made late: nothing is left")

    # an engine too busy to finish the teardown in time: an interrupted
    # up gives up after 6 s, before a CI runner's SIGTERM (7.5 s after
    # its SIGINT), and leaves the rest to its watchdog (before, it waited
    # for the engine: 8 s here)
    with tempfile.TemporaryDirectory() as tmp:
        p, e, run = interrupted(orch, tmp, web, ("inspect", "network-slow-rm"),
                                signal.SIGINT, watchdog_says="owner gone")
        ok(p.arrived and p.returncode == 130 and 5.5 < p.seconds < 7.0,
           "SIGINT, the network's removal taking 8 s: exit 130 after "
           "%.2fs" % p.seconds)
        ok("removing run %s: not done 6s after the teardown began" % run
           in p.stderr_text and "(the watchdog or 'orchestrate gc' will "
           "finish)" in p.stderr_text,
           "the message says the teardown was handed to the watchdog")
        ok(run and nothing_left(e) and
           "owner gone; removed 0 containers, 1 networks" in p.watchdog,
           "the watchdog removed the network: nothing is left")

    for hang, sig, manifest, what in (
            (("network",), signal.SIGTERM, web, "network"),
            (("volume",), signal.SIGHUP, web + "    volumes: ['data:/d']\n"
             "volumes:\n  data: {}\n", "volume")):
        name = signal.Signals(sig).name
        with tempfile.TemporaryDirectory() as tmp:
            p, e, run = interrupted(orch, tmp, manifest, hang, sig)
            ok(p.arrived and p.returncode == 143,
               "%s during a %s create never answered: exit 143" %
               (name, what))
            ok(3.0 <= p.seconds < 4.5, "%s create: gone %.2fs after the "
               "signal (3 s for the engine to answer)" % (what, p.seconds))
            ok("POST /v1.41/%ss/create: no answer from the engine within "
               "3s of the teardown" % what in p.stderr_text and
               "the watchdog or 'orchestrate gc' will finish" in
               p.stderr_text, "%s create: the message says which create "
               "went unanswered" % what)
            ok(run and run_torn_down(e, run) and nothing_left(e),
               "%s create: the %s the engine made is removed" %
               (what, what))
            ok("owner gone; removed 0 containers, 0 networks, 0 volumes"
               in p.watchdog, "%s create: the watchdog, left armed, "
               "looked once more" % what)

    # -- the address pools used up (row 27) --------------------------------
    with tempfile.TemporaryDirectory() as tmp:
        p, e = case(orch, tmp, web,
                    setup=lambda e: setattr(e, "no_pool", True))
        m = re.search(r"run ([0-9a-f]{12})", p.stderr)
        ok(p.returncode == 3, "no address pool left: exit 3")
        ok(m and "orchestrate: network 'faults-%s' (leaked networks use up "
           "the address pools: try 'orchestrate gc'): POST "
           "/v1.41/networks/create: 500: %s" % (m.group(1), POOL_MESSAGE)
           in p.stderr, "the message names the network, the likely cause "
           "and the hint, then the engine's words")
        ok(not e.calls("POST", "/v1.41/containers/") and nothing_left(e),
           "no pool: nothing created, nothing left")

    # -- a malformed override is a usage error ----------------------------
    with tempfile.TemporaryDirectory() as tmp:
        p, e = case(orch, tmp, "services:\n  web:\n    image: x\n",
                    {"ORCHESTRATE_STALL_TIMEOUT": "soon"})
        ok(p.returncode == 2 and "ORCHESTRATE_STALL_TIMEOUT 'soon'" in
           p.stderr and not e.log,
           "a stall limit that is no duration: exit 2 before any call")

    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
