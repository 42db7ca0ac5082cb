#!/usr/bin/env python3
"""teardown.py: `down` and `gc` against a scripted fake engine (suite cli).

The real engine rarely shows these answers, so a small fake on a unix
socket scripts them: 409 "removal already in progress" (someone else is
removing the container: wait until it is gone), 403 "has active endpoints"
for a while (retry), a volume that stays in use (report it, exit 4), a
listing that ignores our label filter (never delete what is not ours), an
engine that stops answering mid-teardown (exit 3, "NOT verified"), and gc
deciding from owner labels (an owner on another host or with labels of an
older version is listed and left alone, except with --force). TAP
output.

usage: teardown.py ORCHESTRATE
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.parse

import fakeunix

P = "fakeproj"
LP = "io.orchestrate."
results = []


def ok(cond, what):
    results.append(cond)
    print(("ok" if cond else "not ok") + " %d - %s" % (len(results), what))
    sys.stdout.flush()


def labels(run, role="service", owner=None, project=P):
    out = {LP + "project": project, LP + "run-id": run, LP + "role": role}
    if owner:
        # in our PID namespace and boot, as labels.c writes it
        out[LP + "owner.host"] = socket.gethostname()
        out[LP + "owner.pid"] = str(owner[0])
        out[LP + "owner.start"] = str(owner[1])
        ns = os.readlink("/proc/self/ns/pid")
        out[LP + "owner.pidns"] = ns[ns.index("[") + 1:-1]
        with open("/proc/sys/kernel/random/boot_id") as f:
            out[LP + "owner.boot"] = f.read().strip()
    return out


class Engine:
    """Objects by kind; per-object scripted answers; a request log."""

    def __init__(self):
        self.objects = {"containers": {}, "networks": {}, "volumes": {}}
        self.script = {}  # (method, path) -> list of (status, body)
        self.log = []
        self.lock = threading.Lock()

    def add(self, kind, key, lab, leak=False, state="running"):
        self.objects[kind][key] = {"labels": lab, "leak": leak,
                                   "state": state}

    def listing(self, kind, query):
        want = []
        f = urllib.parse.parse_qs(query).get("filters")
        if f:
            want = json.loads(f[0]).get("label", [])
        out = []
        for key, o in self.objects[kind].items():
            match = all(
                (o["labels"].get(w.split("=", 1)[0]) == w.split("=", 1)[1])
                if "=" in w else w in o["labels"] for w in want)
            if not (match or o["leak"]):
                continue
            if kind == "containers":
                out.append({"Id": key, "Names": ["/" + key],
                            "State": o["state"], "Labels": o["labels"]})
            elif kind == "networks":
                out.append({"Id": key, "Name": key, "Labels": o["labels"]})
            else:
                out.append({"Name": key, "Labels": o["labels"]})
        return {"Volumes": out} if kind == "volumes" else out

    def route(self, method, path):
        with self.lock:
            self.log.append((method, path))
            url = urllib.parse.urlsplit(path)
            p = url.path
            if p == "/_ping":
                return 200, None
            if not p.startswith("/v1.41/"):
                return 400, {"message": "unversioned request"}
            p = p[len("/v1.41"):]
            scripted = self.script.get((method, p))
            if scripted:
                status, body = scripted.pop(0)
                if status in (204, 404):
                    self.forget(p)
                return status, body
            parts = p.strip("/").split("/")
            if method == "GET" and parts == ["containers", "json"]:
                return 200, self.listing("containers", url.query)
            if method == "GET" and len(parts) == 1 and \
                    parts[0] in ("networks", "volumes"):
                return 200, self.listing(parts[0], url.query)
            if method == "GET" and parts[0] == "containers" and \
                    len(parts) == 3 and parts[2] == "json":
                if parts[1] in self.objects["containers"]:
                    return 200, {"Id": parts[1], "State": {
                        "Status": self.objects["containers"][parts[1]]
                        ["state"]}}
                return 404, {"message": "No such container: " + parts[1]}
            if method == "DELETE" and len(parts) == 2:
                if self.forget(p):
                    return 204, None
                return 404, {"message": "no such object: " + parts[1]}
            if method == "POST" and parts[-1] == "stop":
                return 204, None
            return 500, {"message": "fake engine: unexpected %s %s" %
                         (method, path)}

    def forget(self, p):
        parts = p.strip("/").split("/")
        return self.objects.get(parts[0], {}).pop(parts[1], None) is not None

    def deletes(self):
        return [urllib.parse.urlsplit(p).path.split("/")[3]
                for m, p in self.log if m == "DELETE"]


def serve(engine, sock_path, hangup_on_delete=False):
    class Handler(fakeunix.Handler):
        def any(self):
            self.body()
            if hangup_on_delete and self.command == "DELETE":
                engine.log.append((self.command, self.path))
                self.close_connection = True
                return  # no answer at all: the engine went away
            self.reply(*engine.route(self.command, self.path))

    srv = fakeunix.serve(sock_path, Handler)
    return srv


def run(orch, sock, *args):
    env = dict(os.environ)
    env["DOCKER_HOST"] = "unix://" + sock
    env.pop("ORCHESTRATE_PROJECT", None)
    with tempfile.TemporaryDirectory() as cwd:
        p = subprocess.run([orch] + list(args), cwd=cwd, env=env,
                           capture_output=True, text=True, timeout=60)
    print("# orchestrate %s: exit %d: %s %s" % (
        " ".join(args), p.returncode, p.stdout.strip().replace("\n", " | "),
        p.stderr.strip()[:600].replace("\n", " | ")))
    return p


def dead_pid():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def start_time(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[19]


def main():
    orch = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp()
    sock = os.path.join(tmp, "engine.sock")

    # -- busy objects, a filter bug -------------------------------------
    e = Engine()
    e.add("containers", "c1", labels("r1"))
    e.add("containers", "c2", labels("r1"))
    e.add("containers", "intruder", labels("r1", project="other"),
          leak=True)
    e.add("containers", "nolabels", {}, leak=True)
    e.add("networks", "n1", labels("r1", "network"))
    e.add("volumes", "v1", labels("r1", "volume"))
    e.add("volumes", "v2", {"com.example": "x"}, leak=True)
    e.script[("DELETE", "/containers/c1")] = [
        (409, {"message": "removal of container c1 is already in "
                          "progress"})]
    e.script[("GET", "/containers/c1/json")] = [
        (200, {"Id": "c1", "State": {"Status": "removing"}}),
        (404, {"message": "No such container: c1"})]
    e.script[("DELETE", "/networks/n1")] = [
        (403, {"message": "error while removing network: network n1 id "
                          "n1 has active endpoints"})] * 2
    e.script[("DELETE", "/volumes/v1")] = [
        (409, {"message": "remove v1: volume is in use - [c9]"})] * 1000
    srv = serve(e, sock)
    p = run(orch, sock, "-p", P, "down")
    ok(p.returncode == 4, "a volume that stays in use: exit 4")
    ok(p.stdout.strip() == "removed 2 containers, 1 network",
       "what was removed is still reported")
    ok("volume 'v1'" in p.stderr and "in use" in p.stderr,
       "the volume is named with the engine's message")
    dels = e.deletes()
    ok("intruder" not in dels and "nolabels" not in dels and
       "v2" not in dels, "objects the filter let through are not ours: "
       "never deleted")
    ok(dels.count("c1") == 1 and ("GET", "/v1.41/containers/c1/json")
       in e.log, "409 in progress: waited for the other removal")
    ok(dels.count("n1") == 3, "403 active endpoints: retried until gone")
    ok(e.deletes().index("n1") > max(i for i, d in enumerate(dels)
                                     if d in ("c1", "c2")),
       "networks only after containers")
    srv.shutdown()
    srv.server_close()
    os.unlink(sock)

    # -- an engine that stops answering ---------------------------------
    e = Engine()
    e.add("containers", "c1", labels("r1"))
    srv = serve(e, sock, hangup_on_delete=True)
    p = run(orch, sock, "-p", P, "down")
    ok(p.returncode == 3, "engine stops answering mid-teardown: exit 3")
    ok("NOT verified" in p.stderr, "and says the cleanup is not verified")
    srv.shutdown()
    srv.server_close()
    os.unlink(sock)

    # -- gc from owner labels -------------------------------------------
    dead = dead_pid()
    me = (os.getpid(), start_time(os.getpid()))
    e = Engine()
    e.add("containers", "dead-db", labels("dead", owner=(dead, 1)))
    e.add("networks", "dead-net", labels("dead", "network", (dead, 1)))
    e.add("containers", "live-db", labels("live", owner=me))
    e.add("containers", "kept-db", labels("kept", owner=(dead, 1)))
    e.add("volumes", "kept-keep", labels("kept", "keep", (dead, 1)))
    e.add("containers", "far-db", dict(labels("far"), **{
        LP + "owner.host": "elsewhere.invalid", LP + "owner.pid": "1"}))
    # written by an older version: no PID namespace, so its dead pid may
    # be another namespace's live one
    e.add("containers", "old-db", dict(labels("old"), **{
        LP + "owner.host": socket.gethostname(),
        LP + "owner.pid": str(dead), LP + "owner.start": "1"}))
    srv = serve(e, sock)
    p = run(orch, sock, "gc", "--project", P)
    ok(p.returncode == 0, "gc exits 0")
    ok(sorted(e.deletes()) == ["dead-db", "dead-net"],
       "gc removes only the run whose owner is gone")
    ok("removed run 'dead' of project '%s' (owner pid %d gone): "
       "1 container, 1 network" % (P, dead) in p.stdout,
       "gc says what it removed")
    ok("left alone: run 'far' of project '%s': owner pid 1 on "
       "'elsewhere.invalid' runs on another host (cannot tell whether it "
       "runs; gc --force removes it)" % P in p.stdout,
       "gc lists a run of another host as one it cannot judge")
    ok("left alone: run 'old' of project '%s': owner pid %d on '%s' has "
       "no PID namespace label (an older orchestrate)" % (
           P, dead, socket.gethostname()) in p.stdout,
       "and a run whose labels have no PID namespace")
    ok("left alone: 1 run with a live owner, 1 kept run (gc --all removes "
       "it), 2 runs whose owner cannot be checked" in p.stdout,
       "gc says what it left alone")
    p = run(orch, sock, "gc", "--project", P, "--all")
    ok(sorted(e.deletes()) == ["dead-db", "dead-net", "kept-db",
                               "kept-keep"], "gc --all: the kept run too")
    p = run(orch, sock, "gc", "--project", P, "--force")
    ok(p.returncode == 0 and sorted(e.deletes()) == [
        "dead-db", "dead-net", "far-db", "kept-db", "kept-keep", "old-db"],
       "gc --force: the runs it cannot judge too, never the live one")
    ok("removed run 'far' of project '%s' (--force: owner pid 1 on "
       "'elsewhere.invalid' runs on another host): 1 container" % P
       in p.stdout, "gc --force says why it was needed")
    p = run(orch, sock, "gc", "--project", P)
    ok(p.returncode == 0 and p.stdout.startswith("nothing to remove"),
       "gc again: nothing to remove")
    srv.shutdown()
    srv.server_close()
    os.unlink(sock)
    os.rmdir(tmp)

    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
