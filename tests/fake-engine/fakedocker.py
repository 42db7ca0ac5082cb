#!/usr/bin/env python3
"""fakedocker.py: a small stateful Docker engine on a unix socket, for the
hermetic tests of the env state machine (test-env-fake.c).

It keeps containers, networks (with each endpoint's DNS aliases),
volumes and an events stream, and answers the calls env makes: image
inspect, network and volume create, container create/start/inspect/
remove, network connect/disconnect, exec (exit 0 while the container
runs), logs (empty), listings by label. Nothing runs: a container's
"process" is its state.

Behaviour a manifest asks for, through the container's environment:
  FAKE_EXIT=N      the process exits with N 50 ms after its start
Faults and events a test asks for, through calls of its own:
  POST /_fake/die?name=ID|SUFFIX&code=N
                                       the container exits (die event)
  POST /_fake/fail?op=disconnect&name=SUFFIX
                                       its next network disconnects
                                       fail with a 500
  POST /_fake/dupnet?name=NAME         when a network NAME is created,
                                       another client creates one of the
                                       same name at once (an engine
                                       before API 1.44 allows that): a
                                       request naming NAME is then
                                       refused as ambiguous, as Docker
                                       does; ids still work
  GET  /_fake/log                      every call so far (a network
                                       create with its reply), and every time
                                       an alias answered twice on one
                                       network ("conflicts")

Usage: fakedocker.py SOCKET   (runs until killed)
"""
import json
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "cli"))
import fakeunix  # noqa: E402

LOCK = threading.Condition()
STATE = {
    "containers": {},  # id -> dict
    "networks": {},    # id -> {"Name", "Labels", "eps": {cid: [aliases]}}
    "volumes": {},     # name -> labels
    "events": [],      # (seq, dict)
    "log": [],         # {"method", "path", "body"}
    "fail": {},        # op -> name suffix
    "conflicts": [],
    "dupnet": set(),   # network names a racing client duplicates
    "seq": 0,
    "ids": 0,  # ids are never reused
}


def new_id():
    STATE["ids"] += 1
    return STATE["ids"]


def now_ns():
    return time.time_ns()


def emit(c, action, extra=None):
    attrs = dict(c["Config"].get("Labels") or {})
    attrs["name"] = c["Name"]
    attrs.update(extra or {})
    STATE["seq"] += 1
    STATE["events"].append((STATE["seq"], {
        "Type": "container", "Action": action, "status": action,
        "id": c["Id"], "Actor": {"ID": c["Id"], "Attributes": attrs},
        "time": int(time.time()), "timeNano": now_ns()}))
    LOCK.notify_all()


class Ambiguous(Exception):
    pass


def net_by(ref):
    """(id, network) by id, else by name; (None, None) when there is none;
    Ambiguous when several networks have that name."""
    if ref in STATE["networks"]:
        return ref, STATE["networks"][ref]
    named = [(nid, n) for nid, n in STATE["networks"].items()
             if n["Name"] == ref]
    if len(named) > 1:
        raise Ambiguous("network %s is ambiguous (%d matches found based "
                        "on name)" % (ref, len(named)))
    return named[0] if named else (None, None)


def ctr_by(ref):
    ref = urllib.parse.unquote(ref)
    for cid, c in STATE["containers"].items():
        if cid == ref or c["Name"] == ref or cid.startswith(ref):
            return c
    return None


def check_aliases(n):
    """Record a moment when one alias answers from two containers."""
    seen = {}
    for cid, aliases in n["eps"].items():
        c = STATE["containers"].get(cid)
        if not c or c["State"]["Status"] != "running":
            continue
        for a in aliases:
            if a in seen and seen[a] != cid:
                STATE["conflicts"].append(
                    {"network": n["Name"], "alias": a})
            seen[a] = cid


def labels_match(labels, query):
    f = urllib.parse.parse_qs(query).get("filters")
    want = json.loads(f[0]).get("label", []) if f else []
    for w in want:
        k, _, v = w.partition("=")
        if k not in labels or ("=" in w and labels[k] != v):
            return False
    return True


def die(c, code):
    if c["State"]["Status"] != "running":
        return
    c["State"].update(Status="exited", Running=False, ExitCode=code)
    emit(c, "die", {"exitCode": str(code)})


def inspect(c):
    nets = {}
    for nid, n in STATE["networks"].items():
        if c["Id"] in n["eps"]:
            nets[n["Name"]] = {"IPAddress": "10.0.0.%d" %
                               (1 + len(nets)), "Aliases":
                               n["eps"][c["Id"]]}
    return {"Id": c["Id"], "Name": "/" + c["Name"], "Image": "sha256:fake",
            "State": c["State"], "Config": c["Config"],
            "NetworkSettings": {"Networks": nets, "Ports": {}}}


def route(method, path, body):
    url = urllib.parse.urlsplit(path)
    p = url.path
    if p.startswith("/v1.41"):
        p = p[len("/v1.41"):]
    parts = p.strip("/").split("/")
    q = url.query
    S = STATE
    if p == "/_ping":
        return 200, None
    if p == "/_fake/log":
        return 200, {"log": S["log"], "conflicts": S["conflicts"]}
    if p == "/_fake/die":
        a = urllib.parse.parse_qs(q)
        for c in S["containers"].values():
            if c["Id"] == a["name"][0] or c["Name"].endswith(a["name"][0]):
                die(c, int(a["code"][0]))
                return 204, None
        return 404, {"message": "no such container"}
    if p == "/_fake/dupnet":
        S["dupnet"].add(urllib.parse.parse_qs(q)["name"][0])
        return 204, None
    if p == "/_fake/fail":
        a = urllib.parse.parse_qs(q)
        S["fail"][a["op"][0]] = a["name"][0]
        return 204, None
    S["log"].append({"method": method, "path": p, "body": body})
    if method == "GET" and parts[0] == "images":
        # local/db as if pulled (a registry digest); the rest built
        pulled = p == "/images/local%2Fdb/json"
        return 200, {"Id": "sha256:" + "ab" * 32, "Os": "linux",
                     "Architecture": "amd64",
                     "RepoDigests": ["local/db@sha256:" + "cd" * 32]
                     if pulled else [],
                     "Config": {"Entrypoint": None, "Cmd": ["sh"],
                                "Healthcheck": None}}
    if method == "POST" and p == "/networks/create":
        nid = "net%02d" % new_id()
        S["networks"][nid] = {"Name": body["Name"],
                              "Labels": body.get("Labels") or {},
                              "eps": {}}
        S["log"][-1]["reply"] = {"Id": nid}
        if body["Name"] in S["dupnet"]:
            S["networks"]["net%02d" % new_id()] = {
                "Name": body["Name"], "Labels": {"fake.racer": "1"},
                "eps": {}}
        return 201, {"Id": nid, "Warning": ""}
    if method == "POST" and p == "/volumes/create":
        lab = S["volumes"].setdefault(body["Name"], body.get("Labels") or {})
        return 201, {"Name": body["Name"], "Labels": lab}
    if method == "GET" and p == "/networks":
        return 200, [{"Id": k, "Name": v["Name"], "Labels": v["Labels"]}
                     for k, v in S["networks"].items()
                     if labels_match(v["Labels"], q)]
    if method == "GET" and p == "/volumes":
        return 200, {"Volumes": [{"Name": k, "Labels": v}
                                 for k, v in S["volumes"].items()
                                 if labels_match(v, q)]}
    if method == "DELETE" and parts[0] == "volumes":
        name = urllib.parse.unquote(parts[1])
        return (204, None) if S["volumes"].pop(name, None) is not None \
            else (404, {"message": "no such volume"})
    if method == "DELETE" and parts[0] == "networks":
        nid, n = net_by(parts[1])
        if not n:
            return 404, {"message": "no such network"}
        if n["eps"]:
            return 403, {"message": "network has active endpoints"}
        del S["networks"][nid]
        return 204, None
    if method == "POST" and parts[0] == "networks" and len(parts) == 3:
        nid, n = net_by(parts[1])
        c = ctr_by(body["Container"]) if n else None
        if not n or not c:
            return 404, {"message": "no such network or container"}
        if parts[2] == "connect":
            if c["Id"] in n["eps"]:
                return 403, {"message": "endpoint with name %s already "
                             "exists in network %s" % (c["Name"],
                                                       n["Name"])}
            cfg = body.get("EndpointConfig") or {}
            n["eps"][c["Id"]] = list(cfg.get("Aliases") or [])
            check_aliases(n)
            return 200, None
        fail = S["fail"].get("disconnect")
        if fail and c["Name"].endswith(fail):
            return 500, {"message": "fake: disconnect refused"}
        if c["Id"] not in n["eps"]:
            return 404, {"message": "container is not connected"}
        del n["eps"][c["Id"]]
        return 200, None
    if method == "POST" and p == "/containers/create":
        name = urllib.parse.parse_qs(q).get("name", [""])[0]
        if any(c["Name"] == name for c in S["containers"].values()):
            return 409, {"message": "Conflict. The container name \"/%s\""
                         " is already in use" % name}
        cid = "%064x" % new_id()
        ec = (body.get("NetworkingConfig") or {}).get("EndpointsConfig")
        c = {"Id": cid, "Name": name,
             "Config": {"Image": body.get("Image"), "Tty": False,
                        "Labels": body.get("Labels") or {},
                        "Env": body.get("Env") or []},
             "State": {"Status": "created", "Running": False,
                       "ExitCode": 0, "OOMKilled": False}}
        S["containers"][cid] = c
        for net, cfg in (ec or {}).items():
            nid, n = net_by(net)
            if not n:
                del S["containers"][cid]
                return 404, {"message": "network %s not found" % net}
            n["eps"][cid] = list((cfg or {}).get("Aliases") or [])
        emit(c, "create")
        return 201, {"Id": cid, "Warnings": []}
    if method == "GET" and p == "/containers/json":
        return 200, [{"Id": c["Id"], "Names": ["/" + c["Name"]],
                      "State": c["State"]["Status"],
                      "Labels": c["Config"]["Labels"]}
                     for c in S["containers"].values()
                     if labels_match(c["Config"]["Labels"], q)]
    if parts[0] == "containers" and len(parts) >= 2:
        c = ctr_by(parts[1])
        if not c:
            return 404, {"message": "No such container: " + parts[1]}
        verb = parts[2] if len(parts) > 2 else ""
        if method == "DELETE":
            die(c, 137)
            for n in S["networks"].values():
                n["eps"].pop(c["Id"], None)
            del S["containers"][c["Id"]]
            emit(c, "destroy")
            return 204, None
        if method == "GET" and verb == "json":
            return 200, inspect(c)
        if method == "GET" and verb == "logs":
            return 200, ""
        if method == "POST" and verb == "start":
            if c["State"]["Status"] == "running":
                return 304, None
            c["State"].update(Status="running", Running=True)
            for n in S["networks"].values():
                if c["Id"] in n["eps"]:
                    check_aliases(n)
            emit(c, "start")
            for kv in c["Config"]["Env"]:
                if kv.startswith("FAKE_EXIT="):
                    code = int(kv.split("=", 1)[1])
                    threading.Timer(0.05, lambda: exit_later(c, code)).start()
            return 204, None
        if method == "POST" and verb in ("stop", "kill"):
            die(c, 137)
            return 204, None
        if method == "POST" and verb == "exec":
            if c["State"]["Status"] != "running":
                return 409, {"message": "container is not running"}
            eid = "exec%d" % new_id()
            S.setdefault("execs", {})[eid] = c["Id"]
            return 201, {"Id": eid}
    if parts[0] == "exec" and len(parts) == 3:
        if parts[2] == "start":
            return "mux", b""
        return 200, {"Running": False, "ExitCode": 0}
    return 500, {"message": "fakedocker: unexpected %s %s" % (method, path)}


def exit_later(c, code):
    with LOCK:
        die(c, code)


class Handler(fakeunix.Handler):
    def events(self):
        self.send_response(200)
        self.send_header("Api-Version", "1.41")
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        q = urllib.parse.urlsplit(self.path).query
        sent = 0
        with LOCK:
            while True:
                for seq, ev in STATE["events"]:
                    if seq <= sent:
                        continue
                    sent = seq
                    if not labels_match(ev["Actor"]["Attributes"], q):
                        continue
                    line = json.dumps(ev).encode() + b"\n"
                    try:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                        self.wfile.flush()
                    except OSError:
                        return
                LOCK.wait(0.5)

    def any(self):
        raw = self.body()
        body = json.loads(raw) if raw and self.headers.get(
            "Content-Type") == "application/json" else None
        if self.command == "GET" and "/events" in self.path:
            self.events()
            return
        with LOCK:
            try:
                status, data = route(self.command, self.path, body)
            except Ambiguous as e:
                status, data = 400, {"message": str(e)}
        if status == "mux":
            self.send_response(200)
            self.send_header("Api-Version", "1.41")
            self.send_header("Content-Type",
                             "application/vnd.docker.raw-stream")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if status == 200 and data == "":
            self.send_response(200)
            self.send_header("Api-Version", "1.41")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.reply(status, data)


def main():
    sock = sys.argv[1]
    srv = fakeunix.serve(sock, Handler)
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
