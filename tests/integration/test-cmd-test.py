#!/usr/bin/env python3
"""test-cmd-test.py: `orchestrate test` against the real engine (TAP).

On tests/integration/testenv (web -> api -> db, busybox httpd with CGI,
stubs for api and db):
  - every strategy: the stages and the suites in each, read from
    report.json, equal `plan --json`'s; a healthy run exits 0;
  - a stub swapped for the real service keeps its name for the caller,
    and the caller is checked again;
  - the interface broken between api and db (DB_SCHEMA=2: the real db
    answers differently from its stub) is localised to api -> db by
    incremental, bottom-up, top-down and sandwich; top-down names the
    stub-versus-real mismatch; big-bang says it cannot localise;
  - a flaky suite, a hanging suite hitting its timeout, a host suite
    reaching a published port, an artifact that would escape, a command
    that does not exist, a service that dies while a suite runs;
  - SIGINT during a suite; --keep-on-failure, then down;
  - a manifest without suites: exit 2;
  - after every case, nothing of the project is left on the engine.

Usage: test-cmd-test.py ORCHESTRATE SOURCE_ROOT
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ORCH, ROOT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
ENVDIR = os.path.join(ROOT, "tests", "integration", "testenv")
results = []
STRATEGIES = ["big-bang", "incremental", "bottom-up", "top-down",
              "sandwich"]


def ok(cond, what):
    results.append(bool(cond))
    print("%s %d - %s" % ("ok" if cond else "not ok", len(results), what))
    sys.stdout.flush()
    return cond


def note(text):
    for line in str(text).splitlines():
        print("# " + line)


def leftovers(project):
    out = []
    for kind in ("ps -aq", "network ls -q", "volume ls -q"):
        r = subprocess.run(["docker"] + kind.split() +
                           ["--filter", "label=io.orchestrate.project=" +
                            project], capture_output=True, text=True)
        out += r.stdout.split()
    return out


def images(project):
    r = subprocess.run(["docker", "image", "ls", "-q", "--filter",
                        "label=io.orchestrate.built-by=" + project],
                       capture_output=True, text=True)
    return r.stdout.split()


def clean(project):
    subprocess.run([ORCH, "-p", project, "down", "--rmi"],
                   capture_output=True)


PROJECTS = set()


def orch(args, cwd, project, env=None, timeout=240):
    PROJECTS.add(project)
    e = dict(os.environ)
    e.pop("ORCHESTRATE_PROJECT", None)
    e.pop("DB_SCHEMA", None)
    e.update(env or {})
    t0 = time.monotonic()
    p = subprocess.run([ORCH, "-p", project] + args, cwd=cwd, env=e,
                       capture_output=True, text=True, timeout=timeout)
    p.seconds = time.monotonic() - t0
    return p


def report(d):
    with open(os.path.join(d, "report.json")) as f:
        return json.load(f)


def edge_names(pairs):
    return ["%s -> %s" % (a, b) for a, b in pairs]


def workdir(tmp, manifest=None):
    """A copy of testenv; manifest (text) replaces its orchestrate.yaml."""
    d = os.path.join(tmp, "env")
    shutil.copytree(ENVDIR, d)
    if manifest is not None:
        with open(os.path.join(d, "orchestrate.yaml"), "w") as f:
            f.write(manifest)
    return d


def strategies(tmp):
    wd = workdir(tmp)
    for s in STRATEGIES:
        project = "ct-%d-%s" % (os.getpid(), s)
        rep = os.path.join(tmp, "rep-" + s)
        p = orch(["test", "--strategy", s, "--report-dir", rep], wd, project)
        plan = json.loads(orch(["plan", "--strategy", s, "--json"], wd,
                               project).stdout)
        ok(p.returncode == 0, "%s: every suite passes, exit 0 (%.1fs)" %
           (s, p.seconds)) or note(p.stdout + p.stderr)
        r = report(rep)
        same = len(r["stages"]) == len(plan["stages"]) and all(
            a["label"] == b["label"] and a["real"] == b["real"] and
            a["stubs"] == b["stubs"] and a["absent"] == b["absent"] and
            [x["name"] for x in a["suites"]] == b["suites"]
            for a, b in zip(r["stages"], plan["stages"]))
        ok(same, "%s: report.json's stages and their suites are plan "
           "--json's" % s)
        ok(r["result"] == "passed" and r["strategy"] == s and
           r["counts"]["failed"] == 0, "%s: report.json says passed" % s)
        if s == "top-down":
            swapped = [v for st in r["stages"] for v in st["services"]
                       if v["swapped_ms"] is not None]
            ok(any(v["name"] == "api" for v in swapped) and
               "web        checked again" in p.stdout and
               all(x["status"] == "passed" for st in r["stages"]
                   for x in st["suites"] if x["name"] == "e2e"),
               "top-down: api swapped for its stub under its name, web "
               "checked again, e2e passes through it in every stage")
        ok(not leftovers(project), "%s: nothing left" % s)
        clean(project)


def broken(tmp):
    wd = workdir(tmp)
    for s in STRATEGIES:
        project = "ctb-%d-%s" % (os.getpid(), s)
        rep = os.path.join(tmp, "repb-" + s)
        p = orch(["test", "--strategy", s, "--report-dir", rep], wd,
                 project, {"DB_SCHEMA": "2"})
        r = report(rep)
        d = r["diagnosis"]
        ok(p.returncode == 1, "broken, %s: exit 1" % s) or \
            note(p.stdout + p.stderr)
        if s == "big-bang":
            ok(not d["localised"] and "cannot say which one broke" in
               d["summary"], "broken, big-bang: says it cannot localise "
               "and which strategy would")
        else:
            ok(edge_names(d["suspects"]) == ["api -> db"],
               "broken, %s: the suspect is api -> db (%s)" %
               (s, d["summary"]))
        if s == "top-down":
            mm = [f["mismatch"] for f in d["failures"] if f["mismatch"]]
            ok(mm and mm[0]["service"] == "db" and
               "interface mismatch" in d["summary"] and
               "stub of 'db'" in p.stdout,
               "broken, top-down: names the stub-versus-real mismatch "
               "on db")
        ok(not leftovers(project), "broken, %s: nothing left" % s)
        clean(project)


CASES = """name: ctcase
services:
  web:
    build: web
    ready: {http: {port: 8080}, timeout: 20s}
suites:
  flaky:
    targets: [web]
    host: true
    environment: {MARK: "MARKFILE"}
    retries: 1
    command: [sh, -c, 'test -f "$$MARK" && exit 0; touch "$$MARK"; exit 1']
  hangs:
    targets: [web]
    image: local/busybox
    timeout: 1s
    command: [sleep, '60']
  host-port:
    targets: [web]
    host: true
    command: [python3, -c, "import os, urllib.request as u; print(u.urlopen('http://%s:%s/' % (os.environ['ORCH_WEB_HOST'], os.environ['ORCH_WEB_PORT_8080'])).read())"]
  escape:
    targets: [web]
    image: local/busybox
    command: [sh, -c, 'mkdir -p /out/d && ln -s /etc/passwd /out/link && echo hi > /out/d/ok']
    artifacts: [/out, /nothing-here]
  no-such-command:
    targets: [web]
    image: local/busybox
    command: [no-such-command-xyz]
  no-such-host-command:
    targets: [web]
    host: true
    command: [no-such-command-xyz]
"""

DEATH = """name: ctdeath
services:
  dies:
    image: local/busybox
    command: [sh, -c, 'sleep 3; exit 3']
suites:
  during-death:
    targets: [dies]
    image: local/busybox
    command: [sleep, '30']
"""


def cases(tmp):
    mark = os.path.join(tmp, "flaky.mark")
    wd = workdir(tmp, CASES.replace("MARKFILE", mark))
    project = "ctc-%d" % os.getpid()
    rep = os.path.join(tmp, "rep-cases")
    p = orch(["test", "--report-dir", rep, "--jobs", "4"], wd, project)
    r = report(rep)
    suites = {x["name"]: x for st in r["stages"] for x in st["suites"]}
    note(p.stdout[-3000:])
    ok(p.returncode == 1, "cases: exit 1 (suites failed)")
    f = suites["flaky"]
    ok(f["status"] == "flaky" and len(f["attempts"]) == 2 and
       r["counts"]["flaky"] == 1, "a suite that fails, then passes on its "
       "retry, is flaky")
    h = suites["hangs"]
    ok(h["status"] == "timed out" and h["attempts"][0]["timed_out"] and
       h["duration_ms"] < 10000, "a hanging suite is killed at its 1 s "
       "timeout (%s ms)" % h["duration_ms"])
    ok(suites["host-port"]["status"] == "passed", "a host suite reaches a "
       "published port through ORCH_WEB_HOST and ORCH_WEB_PORT_8080")
    e = suites["escape"]["artifacts"]
    ok("out/d/ok" in e["files"] and
       any("out/link" in x and "symlink" in x for x in e["refused"]) and
       any("/nothing-here" in x for x in e["refused"]) and
       os.path.isfile(os.path.join(rep, e["dir"], "out", "d", "ok")) and
       not os.path.lexists(os.path.join(rep, e["dir"], "out", "link")),
       "artifacts: a file is copied, a symlink is refused and not made, "
       "a missing path is said")
    n = suites["no-such-command"]
    ok(n["status"] == "failed" and "cannot start" in (n["summary"] or ""),
       "a container suite whose command does not exist fails (%s)" %
       n["summary"])
    n = suites["no-such-host-command"]
    ok(n["status"] == "failed" and n["exit_code"] == 127 and
       "No such file" in (n["summary"] or ""),
       "a host suite whose command does not exist fails, exit 127")
    ok(not leftovers(project), "cases: nothing left")
    clean(project)


def death(tmp):
    wd = workdir(tmp, DEATH)
    project = "ctd-%d" % os.getpid()
    rep = os.path.join(tmp, "rep-death")
    p = orch(["test", "--report-dir", rep], wd, project)
    r = report(rep)
    d = r["stages"][0]["suites"][0]
    ok(p.returncode == 1 and d["status"] == "failed" and
       "service 'dies'" in (d["summary"] or "") and
       "exited with code 3" in (d["summary"] or "") and
       r["stages"][0]["error"]["service"] == "dies",
       "a service that dies while a suite runs fails the suite, naming "
       "it (%s)" % d["summary"]) or note(p.stdout + p.stderr)
    ok(not leftovers(project), "death: nothing left")
    clean(project)


def interrupted(tmp):
    wd = workdir(tmp, "name: ctint\nservices:\n  web:\n    build: web\n"
                 "    ready: {http: {port: 8080}, timeout: 20s}\n"
                 "suites:\n  sleeps: {targets: [web], image: local/busybox,"
                 " command: [sleep, '30']}\n")
    project = "cti-%d" % os.getpid()
    e = dict(os.environ)
    p = subprocess.Popen([ORCH, "-p", project, "test", "--report-dir",
                          os.path.join(tmp, "rep-int")], cwd=wd, env=e,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    # until the suite's container runs
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60:
        r = subprocess.run(["docker", "ps", "-q", "--filter",
                            "label=io.orchestrate.role=suite", "--filter",
                            "label=io.orchestrate.project=" + project],
                           capture_output=True, text=True)
        if r.stdout.strip():
            break
        time.sleep(0.1)
    t1 = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    gone = time.monotonic() - t1
    ok(p.returncode == 130, "SIGINT during a suite: exit 130 (%.1fs after "
       "the signal)" % gone) or note(out + err)
    ok(not leftovers(project), "SIGINT during a suite: nothing left")
    clean(project)


def keep(tmp):
    wd = workdir(tmp)
    project = "ctk-%d" % os.getpid()
    p = orch(["test", "--keep-on-failure", "--report-dir",
              os.path.join(tmp, "rep-keep")], wd, project,
             {"DB_SCHEMA": "2"})
    left = leftovers(project)
    ok(p.returncode == 1 and left and "orchestrate -p %s down" % project in
       p.stdout, "--keep-on-failure: exit 1, the failing stage's "
       "environment stays, with how to remove it") or note(p.stdout)
    st = orch(["status"], wd, project)
    ok(st.returncode == 0 and "api" in st.stdout,
       "--keep-on-failure: status shows it")
    built = images(project)
    d = orch(["down", "--rmi"], wd, project)
    ok(d.returncode == 0 and not leftovers(project) and built and
       not images(project) and
       "%d images" % len(built) in d.stdout,
       "--keep-on-failure, then down --rmi: nothing left, the %d images "
       "it built removed too" % len(built)) or note(d.stdout + d.stderr)


def selection(tmp):
    wd = workdir(tmp)
    project = "cts-%d" % os.getpid()
    rep = os.path.join(tmp, "rep-sel")
    p = orch(["test", "--strategy", "bottom-up", "--suite", "api-db",
              "--report-dir", rep], wd, project)
    r = report(rep)
    st = [s["status"] for s in r["stages"]]
    ok(p.returncode == 0 and st == ["skipped", "passed", "skipped"] and
       [x["name"] for x in r["stages"][1]["suites"]] == ["api-db"] and
       r["stages"][1]["services"],
       "--suite api-db: only its stage runs, bringing up what it needs "
       "(%s)" % st) or note(p.stdout + p.stderr)
    ok(not leftovers(project), "--suite: nothing left")
    clean(project)
    rep = os.path.join(tmp, "rep-ff")
    p = orch(["test", "--strategy", "bottom-up", "--fail-fast",
              "--report-dir", rep], wd, project, {"DB_SCHEMA": "2"})
    r = report(rep)
    st = [s["status"] for s in r["stages"]]
    ok(p.returncode == 1 and st == ["passed", "failed", "skipped"],
       "--fail-fast: stops at the first failing stage (%s)" % st)
    ok(not leftovers(project), "--fail-fast: nothing left")
    clean(project)
    p = orch(["test", "--suite", "no-such-suite"], wd, project)
    ok(p.returncode == 2 and "no suite 'no-such-suite'" in p.stderr,
       "--suite of a suite that does not exist: exit 2")


def no_suites(tmp):
    wd = workdir(tmp, "services:\n  web: {image: local/busybox}\n")
    p = orch(["test"], wd, "ctn-%d" % os.getpid())
    ok(p.returncode == 2 and "has no suites" in p.stderr,
       "a manifest without suites: exit 2, saying what test needs")


def main():
    if os.environ.get("ORCHESTRATE_NO_ENGINE") == "1":
        print("1..0 # SKIP ORCHESTRATE_NO_ENGINE=1")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        for f in (strategies, broken, cases, death, interrupted, keep,
                  selection, no_suites):
            sub = os.path.join(tmp, f.__name__)
            os.mkdir(sub)
            f(sub)
    # built images are the build cache: the runs keep them, and
    # down --rmi takes them (every test leaves the engine as it found it)
    for project in sorted(PROJECTS):
        clean(project)
    left = [p for p in sorted(PROJECTS) if images(p)]
    ok(not left, "down --rmi: no image built by the %d projects is left%s"
       % (len(PROJECTS), (": " + ", ".join(left)) if left else ""))
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
