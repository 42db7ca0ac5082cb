#!/usr/bin/env python3
"""stdin.py ORCHESTRATE SOURCE_ROOT: `-f -`, the manifest from standard
input, through the real binary (suite cli), as TAP.

- validate, plan --json and graph read a piped manifest exactly as they
  read the file (the same output);
- every invalid fixture piped in fails as it does from its file, exit 2,
  with the message's location reading `<stdin>:LINE:COL`;
- the project directory is the current one: .env there (interpolated),
  and the default project name, which status, logs and down use against
  a small fake engine (the label filter they send names the project);
- ORCHESTRATE_FILE=- means the same;
- a terminal, an empty stdin and a writer that never stops are refused
  with a clear message (the last within the size cap, not by reading
  forever).

`up` with `-f -` is in up-faults.py (a relative build context resolved
against the current directory).
"""
import json
import os
import pty
import subprocess
import sys
import tempfile
import time
import urllib.parse

import fakeunix

exe, root = os.path.abspath(sys.argv[1]), sys.argv[2]
ENV = os.path.join(root, "environments")
FIXTURES = os.path.join(root, "tests", "fixtures", "manifests")
NOTHING = ": nothing was read from standard input"
results = []


def ok(cond, what, detail=""):
    results.append(cond)
    print(("ok" if cond else "not ok") + " %d - %s" % (len(results), what))
    if not cond and detail:
        for line in str(detail).splitlines()[:20]:
            print("# " + line)
    sys.stdout.flush()


def clean_env(**extra):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "HOME": "/nonexistent"}
    env.update(extra)
    return env


def run(args, stdin=None, cwd=None, env=None, data=None):
    p = subprocess.run([exe] + args, input=data, stdin=stdin, cwd=cwd,
                       env=env or clean_env(), capture_output=True,
                       timeout=60)
    return p.returncode, p.stdout.decode(errors="replace"), \
        p.stderr.decode(errors="replace")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def t_same_output():
    for env in ("diamond", "chain", "fanout", "example"):
        d = os.path.join(ENV, env)
        text = read(os.path.join(d, "orchestrate.yaml"))
        for args in (["validate"], ["plan", "--json"],
                     ["plan", "--strategy", "top-down"],
                     ["graph", "--format", "dot"]):
            want = run(["-f", "orchestrate.yaml"] + args, cwd=d)
            got = run(["-f", "-"] + args, cwd=d, data=text)
            ok(got[0] == 0 and got == want,
               "%s: -f - %s is the same as -f orchestrate.yaml"
               % (env, " ".join(args)),
               "file: %r\nstdin: %r" % (want, got))
    rc, out, _ = run(["-f", "-", "plan", "--json"],
                     cwd=os.path.join(ENV, "diamond"),
                     data=read(os.path.join(ENV, "diamond",
                                            "orchestrate.yaml")))
    doc = json.loads(out) if rc == 0 else {}
    ok(doc.get("strategy") == "bottom-up" and doc.get("top_level") == 2 and
       [s["name"] for s in doc.get("services", [])] ==
       ["db", "api", "worker", "web"], "plan --json from stdin is the plan")


def t_invalid_fixtures():
    d = os.path.join(FIXTURES, "invalid")
    # not those run with other files (NAME.args), nor an include that
    # comes back to its includer: standard input has no path to return to
    names = sorted(f[:-5] for f in os.listdir(d) if f.endswith(".yaml") and
                   not os.path.exists(os.path.join(d, f[:-5] + ".args")) and
                   f != "include-cycle.yaml")
    bad = []
    for name in names:
        with open(os.path.join(d, name + ".err")) as f:
            want = f.read().replace(name + ".yaml", "<stdin>").splitlines()
        rc, _, err = run(["-f", "-", "validate"], cwd=d,
                         data=read(os.path.join(d, name + ".yaml")),
                         env=clean_env(FIXTURE_IMAGE_TAG="1.25"))
        got = err.splitlines()
        # an empty stdin says more than an empty file
        got = [g[:-len(NOTHING)] if g.endswith(NOTHING) else g for g in got]
        if rc != 2 or any(w not in got for w in want):
            bad.append("%s: exit %d, %r, want %r" % (name, rc, err, want))
    ok(not bad and len(names) > 50,
       "%d invalid fixtures piped in: exit 2, `<stdin>:LINE:COL: ...`"
       % len(names), "\n".join(bad))
    rc, _, err = run(["-f", "-", "validate"],
                     data=b"services:\n  db:\n    image: x\n"
                          b"    helthcheck: {test: [NONE]}\n")
    ok(rc == 2 and err == "orchestrate: <stdin>:4:5: service 'db': "
       "unknown key 'helthcheck' (did you mean 'healthcheck'?)\n",
       "an unknown key: <stdin>:4:5 and the suggestion", err)


def t_warnings_name_stdin():
    rc, _, err = run(["-f", "-", "validate"],
                     data=b"services:\n  db: {image: \"x${NOPE}\"}\n")
    ok(rc == 0 and "orchestrate: warning: <stdin>:2:15: service 'db': "
       "variable 'NOPE' is not set, using an empty string" in err,
       "warnings name <stdin> too", err)


def t_dotenv_in_cwd():
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, ".env"), "w") as f:
            f.write("PORT_BASE=80\nAPP_PORT=${PORT_BASE}81\n"
                    "LITERAL='${PORT_BASE}'\n")
        manifest = (b"services:\n  web:\n    image: x\n"
                    b"    ports: [\"127.0.0.1:${APP_PORT}:80\"]\n"
                    b"    environment: {L: $LITERAL}\n")
        rc, _, err = run(["-f", "-", "validate"], cwd=tmp, data=manifest)
        ok(rc == 0 and not err, ".env of the current directory, its "
           "values interpolated: a valid port", err)
        rc, _, err = run(["-f", "-", "validate"], cwd=tmp,
                         data=manifest.replace(b"80\"]", b"99999\"]"))
        ok(rc == 2 and "<stdin>:4:13: service 'web': invalid port "
           "'127.0.0.1:8081:99999'" in err, "(the port is checked)", err)
        with open(os.path.join(tmp, ".env"), "a") as f:
            f.write("BIG=${APP_PORT}0\n")
        rc, _, err = run(["-f", "-", "validate"], cwd=tmp,
                         data=manifest.replace(b"APP_PORT", b"BIG"))
        ok(rc == 2 and "<stdin>:4:13: service 'web': invalid port "
           "'127.0.0.1:80810:80'" in err, "a value built from an earlier one reaches the "
           "manifest", err)
        rc, _, err = run(["-f", "-", "validate"], cwd=tmp, data=manifest,
                         env=clean_env(PORT_BASE="700"))
        ok(rc == 2 and "invalid port '127.0.0.1:70081:80'" in err,
           "the process environment wins inside .env", err)
        rc, _, err = run(["-f", "-", "validate"], cwd=tmp,
                         data=manifest.replace(b"APP_PORT", b"BIG"),
                         env=clean_env(PORT_BASE="90"))
        ok(rc == 2 and "invalid port '127.0.0.1:90810:80'" in err,
           "(and the earlier line saw the environment's value)", err)
        with open(os.path.join(tmp, ".env"), "w") as f:
            f.write("A=1\n# the secret comes from CI\n"
                    "TOKEN=${CI_TOKEN:?set CI_TOKEN}\n")
        rc, _, err = run(["-f", "-", "validate"], cwd=tmp, data=manifest)
        ok(rc == 2 and err == "orchestrate: .env:3:7: value of 'TOKEN': "
           "required variable 'CI_TOKEN' is missing a value: set "
           "CI_TOKEN\n", "an error in .env names .env:LINE:COL and the "
           "key, exit 2", err)
        rc, _, err = run(["-f", "-", "validate"], cwd=tmp, data=manifest,
                         env=clean_env(CI_TOKEN="t"))
        ok(rc == 0, "(set in the environment, it passes)", err)


def t_orchestrate_file_dash():
    d = os.path.join(ENV, "chain")
    text = read(os.path.join(d, "orchestrate.yaml"))
    want = run(["-f", "orchestrate.yaml", "graph"], cwd=d)
    got = run(["graph"], cwd=tempfile.gettempdir(), data=text,
              env=clean_env(ORCHESTRATE_FILE="-"))
    ok(got == want and got[0] == 0, "ORCHESTRATE_FILE=- reads stdin too",
       "%r\n%r" % (want, got))


def t_terminal():
    master, slave = pty.openpty()
    try:
        p = subprocess.run([exe, "-f", "-", "validate"], stdin=slave,
                           capture_output=True, timeout=10,
                           env=clean_env())
    finally:
        os.close(slave)
        os.close(master)
    err = p.stderr.decode()
    ok(p.returncode == 2 and "<stdin>: standard input is a terminal" in err
       and "orchestrate -f - validate < orchestrate.yaml" in err,
       "a terminal on stdin: exit 2 at once, saying to pipe the manifest",
       err)


def t_empty_and_closed():
    rc, _, err = run(["-f", "-", "validate"], stdin=subprocess.DEVNULL)
    ok(rc == 2 and err == "orchestrate: <stdin>:1:1: empty manifest: "
       "nothing was read from standard input\n", "empty stdin: exit 2",
       err)
    rc, _, err = run(["-f", "-", "plan"], data=b"# only a comment\n")
    ok(rc == 2 and "<stdin>:1:1: empty manifest" in err,
       "a comment only: exit 2", err)


def t_endless_writer():
    """A writer that never stops: refused at the cap, not read forever."""
    p = subprocess.Popen([exe, "-f", "-", "validate"], stdin=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=clean_env())
    chunk = b"# filler, more than the manifest cap allows\n" * 1000
    sent, t0 = 0, time.monotonic()
    try:
        while time.monotonic() - t0 < 30:
            p.stdin.write(chunk)
            sent += len(chunk)
    except BrokenPipeError:
        pass
    err = p.stderr.read().decode()
    rc = p.wait(timeout=30)
    ok(rc == 2 and "<stdin>:1:1: manifest larger than 1048576 bytes "
       "(1 MiB): stopped reading standard input" in err,
       "an endless stdin: exit 2 naming the cap", err)
    ok(sent < 8 * 1024 * 1024, "it stopped reading within the cap "
       "(%d bytes written before the pipe closed)" % sent)


class Engine:
    """Answers the listings of status, logs and down with nothing; keeps
    the label filters they asked for."""

    def __init__(self):
        self.filters = []

    def route(self, method, path):
        url = urllib.parse.urlsplit(path)
        if url.path == "/_ping":
            return 200, None
        f = urllib.parse.parse_qs(url.query).get("filters")
        if f:
            self.filters += json.loads(f[0]).get("label", [])
        if method == "GET" and url.path.endswith("/volumes"):
            return 200, {"Volumes": []}
        if method == "GET":
            return 200, []
        return 500, {"message": "fake engine: unexpected %s %s" %
                     (method, path)}


def serve(engine, sock_path):
    class Handler(fakeunix.Handler):
        def any(self):
            self.body()
            self.reply(*engine.route(self.command, self.path))

    srv = fakeunix.serve(sock_path, Handler)
    return srv


def t_project_from_cwd():
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "engine.sock")
        cwd = os.path.join(tmp, "My Stdin_Dir")
        os.mkdir(cwd)
        e = Engine()
        srv = serve(e, sock)
        env = clean_env(DOCKER_HOST="unix://" + sock)
        manifest = b"services:\n  db: {image: x}\n"
        try:
            for cmd, out in ((["status"], "project 'mystdin_dir': nothing "
                              "running"),
                             (["logs"], ""),
                             (["down"], "nothing to remove")):
                e.filters = []
                rc, stdout, err = run(["-f", "-"] + cmd, cwd=cwd, env=env,
                                      data=manifest)
                ok(rc == 0 and stdout.strip() == out and
                   "io.orchestrate.project=mystdin_dir" in e.filters,
                   "-f - %s: the project is named after the current "
                   "directory" % cmd[0],
                   "exit %d, %r, %r, filters %r" % (rc, stdout, err,
                                                    e.filters))
            # name: from a .env value built from an earlier one
            with open(os.path.join(cwd, ".env"), "w") as f:
                f.write("TEAM=shop\nPROJECT=${TEAM}-ci\n")
            e.filters = []
            rc, stdout, err = run(["-f", "-", "status"], cwd=cwd, env=env,
                                  data=b"name: ${PROJECT}\n" + manifest)
            ok(rc == 0 and "io.orchestrate.project=shop-ci" in e.filters,
               "name: from .env, interpolated there", err)
            e.filters = []
            rc, stdout, err = run(["-f", "-", "status"], cwd=cwd,
                                  env=dict(env, TEAM="pay"),
                                  data=b"name: ${PROJECT}\n" + manifest)
            ok(rc == 0 and "io.orchestrate.project=pay-ci" in e.filters,
               "(the environment's TEAM wins)", err)
            # the manifest is read from stdin even when -p names the project
            rc, _, err = run(["-f", "-", "-p", "given", "down"], cwd=cwd,
                             env=env, stdin=subprocess.DEVNULL)
            ok(rc == 2 and "<stdin>:1:1: empty manifest" in err,
               "-f - down with nothing piped in: exit 2", err)
        finally:
            srv.shutdown()
            srv.server_close()


def main():
    for t in (t_same_output, t_invalid_fixtures, t_warnings_name_stdin,
              t_dotenv_in_cwd, t_orchestrate_file_dash, t_terminal,
              t_empty_and_closed, t_endless_writer, t_project_from_cwd):
        try:
            t()
        except Exception as e:  # a crash of one case fails it, not all
            ok(False, "%s: %s: %s" % (t.__name__, type(e).__name__, e))
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
