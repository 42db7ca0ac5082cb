#!/usr/bin/env python3
"""hostile.py: hostile values in names, manifests, engine answers and
container output (suite cli, issue 14), against a scripted fake engine.

- project names given to `down --project` and `gc --project` are checked
  as `-p` is, before the engine is asked anything (exit 2);
- control characters (ESC, BEL, CR, ...) from a manifest, from the
  engine's answers and from labels anyone with socket access can write
  are printed escaped (`\\x1b`) in messages, warnings, the status table
  and gc's lines, never raw;
- `orchestrate logs` masks the values of secret-looking variables of the
  services (from the manifest, and from the engine's record of each
  container's environment when there is no manifest); it escapes control
  characters when its output is a terminal and passes them through
  otherwise (it is data, like `docker logs`);
- an error message that carries a secret value (the engine echoing it)
  is masked too.

TAP output. usage: hostile.py ORCHESTRATE
"""
import json
import os
import pty
import select
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import urllib.parse

import fakeunix

LP = "io.orchestrate."
results = []
ESC = "\x1b"
CONTROLS = [chr(c) for c in range(32) if c not in (9, 10)] + ["\x7f"]


def ok(cond, what):
    results.append(bool(cond))
    print(("ok" if cond else "not ok") + " %d - %s" % (len(results), what))
    sys.stdout.flush()


def raw_controls(text):
    """The control characters (but tab and newline) in text."""
    return sorted(set(ch for ch in text if ch in CONTROLS))


def labels(project, run, service=None, owner=None, role="service"):
    out = {LP + "project": project, LP + "run-id": run, LP + "role": role}
    if service is not None:
        out[LP + "service"] = service
    if owner:
        out.update(owner)
    return out


def dead_owner():
    """Owner labels of a process of ours that is gone."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot = f.read().strip()
    ns = os.readlink("/proc/self/ns/pid")
    return {LP + "owner.host": socket.gethostname(),
            LP + "owner.pid": str(pid), LP + "owner.start": "1",
            LP + "owner.pidns": ns[ns.index("[") + 1:-1],
            LP + "owner.boot": boot}


def frame(stream, data):
    data = data.encode() if isinstance(data, str) else data
    return struct.pack(">BxxxI", stream, len(data)) + data


class Engine:
    """Containers (id -> dict), networks, volumes; canned answers."""

    def __init__(self):
        self.containers = {}
        self.networks = {}
        self.volumes = {}
        self.log = []
        self.lock = threading.Lock()
        self.pull_message = "pull access denied"

    def add_container(self, cid, lab, env=(), logs=b"", status="running",
                      health=None):
        self.containers[cid] = {"labels": lab, "env": list(env),
                                "logs": logs, "status": status,
                                "health": health}

    def listing(self, objects, query, kind):
        f = urllib.parse.parse_qs(query).get("filters")
        want = json.loads(f[0]).get("label", []) if f else []
        out = []
        for key, o in objects.items():
            lab = o["labels"]
            if not all(lab.get(w.split("=", 1)[0]) == w.split("=", 1)[1]
                       if "=" in w else w in lab for w in want):
                continue
            if kind == "containers":
                out.append({"Id": key, "Names": ["/" + key],
                            "State": o["status"], "Labels": lab})
            elif kind == "networks":
                out.append({"Id": key, "Name": key, "Labels": lab})
            else:
                out.append({"Name": key, "Labels": lab})
        return {"Volumes": out} if kind == "volumes" else out

    def inspect(self, cid):
        o = self.containers[cid]
        state = {"Status": o["status"], "Running": o["status"] == "running",
                 "ExitCode": 0}
        if o["health"]:
            state["Health"] = {"Status": o["health"], "Log": []}
        return {"Id": cid, "Name": "/" + cid, "State": state,
                "Config": {"Tty": False, "Env": o["env"],
                           "Labels": o["labels"], "Image": "x"},
                "NetworkSettings": {"Networks": {}, "Ports": {}}}

    def route(self, method, path):
        """(status, json) or ("raw", bytes) or ("hold", None)."""
        with self.lock:
            self.log.append((method, path))
            url = urllib.parse.urlsplit(path)
            if url.path == "/_ping":
                return 200, None
            p = url.path[len("/v1.41"):]
            parts = p.strip("/").split("/")
            if method == "GET" and p == "/containers/json":
                return 200, self.listing(self.containers, url.query,
                                         "containers")
            if method == "GET" and p in ("/networks", "/volumes"):
                kind = parts[0]
                return 200, self.listing(getattr(self, kind), url.query,
                                         kind)
            if method == "GET" and parts[0] == "containers" and \
                    len(parts) == 3:
                cid = parts[1]
                if cid not in self.containers:
                    return 404, {"message": "No such container: " + cid}
                if parts[2] == "json":
                    return 200, self.inspect(cid)
                if parts[2] == "logs":
                    return "raw", self.containers[cid]["logs"]
            if method == "DELETE" and len(parts) == 2:
                objs = getattr(self, parts[0], {})
                if objs.pop(urllib.parse.unquote(parts[1]), None):
                    return 204, None
                return 404, {"message": "no such object"}
            if method == "GET" and p == "/events":
                return "hold", None
            if method == "GET" and p == "/version":
                return 200, {"Version": "20.10\x1b]0;owned\x07",
                             "ApiVersion": "1.41", "MinAPIVersion": "1.12",
                             "Os": "linux\r", "Arch": "amd64"}
            if method == "POST" and p == "/networks/create":
                return 201, {"Id": "net1", "Warning": ""}
            if method == "GET" and parts[0] == "images":
                name = urllib.parse.unquote("/".join(parts[1:-1]))
                return 404, {"message": "No such image: " + name}
            if method == "POST" and p == "/images/create":
                return 500, {"message": self.pull_message}
            return 500, {"message": "fake engine: unexpected %s %s" %
                         (method, path)}


def serve(engine, sock):
    class Handler(fakeunix.Handler):
        def any(self):
            self.body()
            status, data = engine.route(self.command, self.path)
            if status == "raw":
                self.send_response(200)
                self.send_header("Api-Version", "1.41")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if status == "hold":
                self.send_response(200)
                self.send_header("Api-Version", "1.41")
                self.send_header("Content-Type", "application/json")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.flush()
                self.close_connection = True
                while self.rfile.read(1):
                    pass
                return
            self.reply(status, data)

    return fakeunix.serve(sock, Handler)


class Case:
    """A fake engine on a socket and an empty working directory."""

    def __init__(self, tmp, engine=None):
        self.tmp = tempfile.mkdtemp(dir=tmp)
        self.sock = os.path.join(self.tmp, "engine.sock")
        self.engine = engine or Engine()
        self.srv = serve(self.engine, self.sock)

    def env(self):
        env = dict(os.environ)
        env["DOCKER_HOST"] = "unix://" + self.sock
        env["ORCHESTRATE_WATCHDOG_LOG"] = os.path.join(self.tmp, "wd.log")
        for k in ("ORCHESTRATE_PROJECT", "ORCHESTRATE_FILE", "NO_COLOR"):
            env.pop(k, None)
        return env

    def manifest(self, text):
        with open(os.path.join(self.tmp, "orchestrate.yaml"), "w") as f:
            f.write(text)

    def run(self, orch, *args):
        p = subprocess.run([orch] + list(args), cwd=self.tmp, env=self.env(),
                           capture_output=True, timeout=60)
        p.out = p.stdout.decode("utf-8", "replace")
        p.err = p.stderr.decode("utf-8", "replace")
        print("# orchestrate %r: exit %d: %r %r" % (
            args, p.returncode, p.out[:400], p.err[:600]))
        return p

    def run_tty(self, orch, *args):
        """args with stdout on a terminal: (exit status, output)."""
        master, slave = pty.openpty()
        p = subprocess.Popen([orch] + list(args), cwd=self.tmp,
                             env=self.env(), stdout=slave,
                             stderr=subprocess.DEVNULL)
        os.close(slave)
        out = b""
        while True:
            r, _, _ = select.select([master], [], [], 30)
            if not r:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
        rc = p.wait(timeout=30)
        text = out.decode("utf-8", "replace").replace("\r\n", "\n")
        print("# orchestrate %r on a tty: exit %d: %r" % (args, rc,
                                                        text[:400]))
        return rc, text

    def requests(self):
        return [r for r in self.engine.log if r[1] != "/_ping"]

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()
        os.unlink(self.sock)


def project_names(orch, tmp):
    c = Case(tmp)
    for cmd, name in (("down", "Shop"), ("gc", "../x"), ("down", "a b"),
                      ("gc", "_x"), ("down", "x/y"),
                      ("gc", "x=y,label=z")):
        p = c.run(orch, cmd, "--project=" + name)
        ok(p.returncode == 2, "%s --project '%s': exit 2" % (cmd, name))
        ok("invalid project name '%s'" % name in p.err and
           "lower case letters, digits" in p.err,
           "%s --project '%s': the message says why" % (cmd, name))
    ok(not c.requests(), "invalid names: the engine was asked nothing")
    p = c.run(orch, "down", "--project", "ok-name_1")
    ok(p.returncode == 0 and p.out.strip() == "nothing to remove",
       "a valid name still works")
    p = c.run(orch, "gc", "--project", "9lives")
    ok(p.returncode == 0, "gc: a name may start with a digit")
    c.close()


def escaped_messages(orch, tmp):
    c = Case(tmp)
    p = c.run(orch, "-p", "a" + ESC + "[2J", "down")
    ok(p.returncode == 2 and "'a\\x1b[2J'" in p.err,
       "-p with ESC: the message shows it escaped")
    ok(not raw_controls(p.err), "no raw control character on stderr")

    p = c.run(orch, "down", "--project", "x" + ESC + "]0;t\x07\r")
    ok(p.returncode == 2 and "'x\\x1b]0;t\\x07\\r'" in p.err,
       "down --project with ESC, BEL and CR: escaped")
    ok(not raw_controls(p.err), "no raw control character on stderr")

    c.manifest('name: demo\nstrategy: "big\\u001b]0;pwned\\u0007"\n'
               'services:\n  db: {image: local/busybox}\n')
    p = c.run(orch, "validate")
    ok(p.returncode == 2 and "'big\\x1b]0;pwned\\x07'" in p.err,
       "a manifest value with ESC and BEL: escaped in the message")
    ok(not raw_controls(p.err), "no raw control character on stderr")

    c.manifest('name: demo\n'
               'x-orchestrate: {allow-host-privileges: true}\n'
               'services:\n  db:\n'
               '    image: local/busybox\n'
               '    volumes: ["/tmp/x\\u001b[2J/docker.sock:/mnt"]\n')
    p = c.run(orch, "validate")
    ok(p.returncode == 0 and "warning" in p.err and "\\x1b[2J" in p.err,
       "a warning naming a manifest value with ESC: escaped")
    ok(not raw_controls(p.err), "no raw control character in warnings")

    # an image name with ESC in up's failure message
    c.manifest('name: demo\nservices:\n  db:\n'
               '    image: "local/busy\\u001b[31mbox"\n')
    p = c.run(orch, "up")
    ok(p.returncode in (2, 3) and "local/busy\\x1b[31mbox" in p.err,
       "up: an image name with ESC is escaped in the failure message")
    ok(not raw_controls(p.err), "up: no raw control character on stderr")

    # the engine's own message
    c.engine.pull_message = "denied \x1b[2J\x07 for you"
    c.manifest('name: demo\nservices:\n  db: {image: local/nothere}\n')
    p = c.run(orch, "up")
    ok(p.returncode == 3 and "denied \\x1b[2J\\x07 for you" in p.err,
       "up: the engine's message with ESC and BEL is escaped")
    ok(not raw_controls(p.err), "up: no raw control character on stderr")
    c.close()


def escaped_status_and_gc(orch, tmp):
    e = Engine()
    evil = "db" + ESC + "[2J"
    e.add_container("c1", labels("shop", "r1", evil), status="run\x07ning",
                    health="healthy\r")
    e.add_container("c2", labels("ev" + ESC + "il", "r2", "x",
                                 owner=dead_owner()), status="exited")
    c = Case(tmp, e)
    p = c.run(orch, "-p", "shop", "status")
    ok(p.returncode == 0 and "db\\x1b[2J" in p.out and
       "run\\x07ning" in p.out and "healthy\\r" in p.out,
       "status: labels and engine states with control characters escaped")
    ok(not raw_controls(p.out), "status: no raw control character")
    p = c.run(orch, "gc")
    ok(p.returncode == 0 and "of project 'ev\\x1bil'" in p.out,
       "gc: a forged project label is printed escaped")
    ok(not raw_controls(p.out + p.err), "gc: no raw control character")
    p = c.run(orch, "version")
    ok(p.returncode == 0 and "20.10\\x1b]0;owned\\x07" in p.out and
       "(linux\\r/amd64)" in p.out,
       "version: the engine's version strings are escaped")
    ok(not raw_controls(p.out + p.err), "version: no raw control character")
    c.close()


SECRET = "hunter2-Sekr3t"


def masked_logs(orch, tmp):
    e = Engine()
    text = ("db starting\n" + "password is " + SECRET + "\n" +
            "token " + "tok-" + SECRET[::-1] + "!\n" +
            "colour " + ESC + "[31mred" + ESC + "[0m\n")
    e.add_container("c1", labels("shop", "r1", "db"),
                    env=["DB_PASSWORD=" + SECRET,
                         "API_TOKEN=tok-" + SECRET[::-1], "PATH=/bin"],
                    logs=frame(1, text[:20]) + frame(2, text[20:]))
    c = Case(tmp, e)
    c.manifest("name: shop\nservices:\n  db:\n    image: local/busybox\n"
               "    environment:\n      DB_PASSWORD: " + SECRET + "\n")
    p = c.run(orch, "logs")
    ok(p.returncode == 0 and "db | password is ***" in p.out,
       "logs with the manifest: the password is masked")
    ok(SECRET not in p.out and SECRET[::-1] not in p.out,
       "logs: no secret value anywhere")
    ok(ESC + "[31mred" in p.out,
       "logs to a pipe: the container's bytes as they are (data)")
    os.unlink(os.path.join(c.tmp, "orchestrate.yaml"))
    p = c.run(orch, "-p", "shop", "logs")
    ok(p.returncode == 0 and "db | password is ***" in p.out and
       "db | token ***!" in p.out,
       "logs without a manifest: masked from the container's environment")
    ok(SECRET not in p.out and SECRET[::-1] not in p.out,
       "logs without a manifest: no secret value anywhere")
    rc, out = c.run_tty(orch, "-p", "shop", "logs")
    ok(rc == 0 and "db | colour \\x1b[31mred\\x1b[0m" in out,
       "logs on a terminal: control characters escaped")
    ok(SECRET not in out and not raw_controls(out.replace("\r", "")),
       "logs on a terminal: masked, nothing raw")
    c.close()


def masked_errors(orch, tmp):
    c = Case(tmp)
    c.engine.pull_message = "denied: bad credentials " + SECRET
    c.manifest("name: shop\nservices:\n  db:\n    image: local/nothere\n"
               "    environment: [GITHUB_TOKEN=" + SECRET + "]\n")
    p = c.run(orch, "up")
    ok(p.returncode == 3 and "bad credentials ***" in p.err,
       "an engine message echoing a secret value: masked")
    ok(SECRET not in p.err + p.out, "up: the value appears nowhere")
    c.close()


def main():
    orch = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        for section in (project_names, escaped_messages,
                        escaped_status_and_gc, masked_logs,
                        masked_errors):
            section(orch, tmp)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
