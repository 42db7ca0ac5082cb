#!/usr/bin/env python3
"""test-report.py: the report directory of a real `orchestrate test` run
(suite docker, issue 11), as TAP.

A failing run of tests/integration/testenv (DB_SCHEMA=2, top-down: the
interface api -> db broken), in a git repository the test makes and
leaves dirty, with one more suite that prints 10 MB, invalid UTF-8,
terminal escapes and "]]>", echoes two secrets (one secret-looking, one
listed under the manifest's `mask:`) and leaves a JUnit file:
  - every file is there: report.json, junit.xml, report.html, and a log
    in logs/ for every container that ran (services, stubs, suite runs);
  - report.json has exactly the fields docs/report.md documents, of the
    documented types, and the git state of the repository (commit,
    branch, dirty files, the remote's URL without its credentials);
  - junit.xml validates with xmllint against tests/junit/junit-10.xsd,
    has one testsuite per stage and the suite's own JUnit results;
  - report.html opened in headless Chromium (no network): the DOM has
    the graph, the suspect edge api -> db marked and the failing suites;
    the screenshot shows the graph's boxes, the marked edge's band and
    the failures' red (kept as an artifact: ARTIFACT_DIR/report-html.png);
  - no secret in any file orchestrate wrote, on the console or in the
    Markdown summary appended to GITHUB_STEP_SUMMARY; the hostile output
    leaves bounded, valid files;
  - the console: plain lines without escape codes off a terminal (CI
    set), colour and a status line on one, none with NO_COLOR; -q and
    -v;
  - outside any repository report.json has no git state; a report
    directory that cannot be written: exit 5 after the teardown, the
    results still printed;
  - after every run, nothing of the project is left on the engine.

Usage: test-report.py ORCHESTRATE SOURCE_ROOT ARTIFACT_DIR
"""
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
import zlib

ORCH, ROOT, ARTIFACTS = (os.path.abspath(a) for a in sys.argv[1:4])
ENVDIR = os.path.join(ROOT, "tests", "integration", "testenv")
XSD = os.path.join(ROOT, "tests", "junit", "junit-10.xsd")
REPORT_MD = os.path.join(ROOT, "docs", "report.md")
SECRETS = ["pw-Secr3t-value-91", "LIC-7f3a-9c2e"]
results = []

HOSTILE_SUITE = r"""
  hostile:
    targets: [db]
    image: local/busybox
    environment:
      DB_PASSWORD: "pw-Secr3t-value-91"
      LICENSE_SERIAL: "LIC-7f3a-9c2e"
    artifacts: [/out/junit.xml]
    command:
      - sh
      - -c
      - |
        printf '\033[31mred\033[0m ]]> <b>bold</b> \377\376 bad utf8 \001 %s\n' "$$DB_PASSWORD"
        echo "password=$$DB_PASSWORD serial=$$LICENSE_SERIAL"
        head -c 10000000 /dev/zero | tr '\0' 'x'
        echo
        printf 'end ]]> \033]0;title\007 %s\n' "$$LICENSE_SERIAL"
        mkdir -p /out
        printf '<?xml version="1.0"?><testsuite name="inner"><testcase classname="t" name="ok" time="0.1"/><testcase classname="t" name="bad"><failure message="leaked %s">trace ]]&gt; %s</failure></testcase></testsuite>' "$$DB_PASSWORD" "$$LICENSE_SERIAL" > /out/junit.xml
"""

TINY = """name: rptiny
services:
  box:
    image: local/busybox
    command: [sleep, '3600']
suites:
  quick:
    targets: [box]
    host: true
    command: [sh, -c, 'echo quick; exit 1']
  chatty:
    targets: [box]
    host: true
    command: [sh, -c, 'echo hello from chatty']
"""


def ok(cond, what):
    results.append(bool(cond))
    print("%s %d - %s" % ("ok" if cond else "not ok", len(results), what))
    sys.stdout.flush()
    return cond


def skip(what, why):
    results.append(True)
    print("ok %d - %s # SKIP %s" % (len(results), what, why))


def note(text):
    for line in str(text).splitlines()[:60]:
        print("# " + line)


def leftovers(project):
    out = []
    for kind in ("ps -aq", "network ls -q", "volume ls -q"):
        r = subprocess.run(["docker"] + kind.split() +
                           ["--filter", "label=io.orchestrate.project=" +
                            project], capture_output=True, text=True)
        out += r.stdout.split()
    return out


def clean(project):
    # --rmi: the images the run built go too
    subprocess.run([ORCH, "-p", project, "down", "--rmi"],
                   capture_output=True)


def run_env(extra=None):
    e = dict(os.environ)
    for v in ("ORCHESTRATE_PROJECT", "DB_SCHEMA", "GITHUB_STEP_SUMMARY",
              "NO_COLOR", "CI"):
        e.pop(v, None)
    e["CI"] = "true"
    e.update(extra or {})
    return e


def orch(args, cwd, project, env=None, timeout=300):
    p = subprocess.run([ORCH, "-p", project] + args, cwd=cwd,
                       env=run_env(env), capture_output=True, timeout=timeout)
    p.out = p.stdout.decode("utf-8", "replace")
    p.err = p.stderr.decode("utf-8", "replace")
    return p


def git(cwd, *args):
    return subprocess.run(["git", "-c", "user.name=Test", "-c",
                           "user.email=test@example.invalid"] + list(args),
                          cwd=cwd, capture_output=True, text=True)


# ---- report.json against docs/report.md ----------------------------------

def doc_tables():
    """{object: {field: type}} from the field tables of docs/report.md."""
    lines = open(REPORT_MD).read().splitlines()
    which = {"One JSON object": "top", "Each stage": "stage",
             "Each service of a stage": "service",
             "Each suite of a stage": "suite",
             "A suite's own JUnit files": "junit",
             "The git state": "git", "The diagnosis": "diagnosis"}
    tables, intro, i = {}, "", 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("| field |"):
            name = next((v for k, v in which.items() if k in intro), None)
            fields = {}
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                cells = [c.strip() for c in lines[i].strip("|").split(" | ")]
                names = re.findall(r"`([a-z_]+)`", cells[0])
                types = [t.strip() for t in cells[1].split(",")]
                for k, n in enumerate(names):
                    fields[n] = (types[k] if len(types) == len(names)
                                 else cells[1])
                i += 1
            if name:
                tables[name] = fields
            intro = ""
            continue
        if line.strip() and not line.startswith("|"):
            if line.startswith("#") or not intro or lines[i - 1] == "":
                intro = line
            else:
                intro += " " + line
        i += 1
    return tables


def type_ok(v, t):
    nullable = t.endswith(" or null")
    if nullable:
        t = t[:-len(" or null")]
    if v is None:
        return nullable
    if t == "string":
        return isinstance(v, str)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "bool":
        return isinstance(v, bool)
    if t == "object":
        return isinstance(v, dict)
    if t in ("names", "array of strings"):
        return isinstance(v, list) and all(isinstance(x, str) for x in v)
    if t == "edges":
        return isinstance(v, list) and all(
            isinstance(x, list) and len(x) == 2 and
            all(isinstance(y, str) for y in x) for x in v)
    if t == "array":
        return isinstance(v, list)
    return False


def check_structure(r):
    t = doc_tables()
    ok(set(t) == {"top", "stage", "service", "suite", "junit", "git",
                  "diagnosis"},
       "docs/report.md has a field table for every object (%s)" %
       sorted(t))
    problems = []

    def against(obj, table, where):
        if not isinstance(obj, dict):
            problems.append("%s: not an object" % where)
            return
        for k, typ in t[table].items():
            if k not in obj:
                problems.append("%s: no '%s'" % (where, k))
            elif not type_ok(obj[k], typ):
                problems.append("%s.%s: %r is not %s" % (where, k,
                                                         obj[k], typ))
        for k in obj:
            if k not in t[table]:
                problems.append("%s: '%s' is not documented" % (where, k))

    against(r, "top", "report")
    for s in r["stages"]:
        against(s, "stage", "stage %d" % s["index"])
        for v in s["services"]:
            against(v, "service", "stage %d service %s" % (s["index"],
                                                          v["name"]))
        for u in s["suites"]:
            against(u, "suite", "stage %d suite %s" % (s["index"],
                                                      u["name"]))
            for j in u["junit"]:
                against(j, "junit", "suite %s junit" % u["name"])
    if r["git"] is not None:
        against(r["git"], "git", "git")
    against(r["diagnosis"], "diagnosis", "diagnosis")
    ok(not problems, "report.json has exactly the documented fields, of "
       "the documented types") or note("\n".join(problems[:30]))


# ---- PNG ------------------------------------------------------------------

def png_pixels(path):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB/RGBA PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6) and body[12] == 0
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pr) & 255
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, bpp)])
        prev = line
    return w, h, rows


def longest_column_run(rows, colour):
    """The longest vertical run of rows holding colour in one column."""
    best = 0
    cols = {}
    for y, row in enumerate(rows):
        for x, px in enumerate(row):
            if px == colour:
                start, last = cols.get(x, (y, y - 1))
                if last != y - 1:
                    start = y
                cols[x] = (start, y)
                best = max(best, y - start + 1)
    return best


def chromium():
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def check_html(tmp, rep):
    html = open(os.path.join(rep, "report.html"), encoding="utf-8").read()
    ok("<script" not in html and not re.search(r"\ssrc\s*=", html) and
       "default-src 'none'" in html,
       "report.html is self-contained: no script, nothing fetched")
    exe = chromium()
    if not exe:
        skip("report.html in headless Chromium",
             "chromium is not installed (scripts/setup installs it)")
        return
    url = "file://" + os.path.join(rep, "report.html")
    flags = ["--headless", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync",
             "--proxy-server=127.0.0.1:9", "--window-size=1280,1700"]
    shot = os.path.join(ARTIFACTS, "report-html.png")
    os.makedirs(ARTIFACTS, exist_ok=True)
    if os.path.exists(shot):
        os.unlink(shot)
    dom = subprocess.run(
        [exe] + flags + ["--user-data-dir=" + os.path.join(tmp, "ud1"),
                         "--dump-dom", url],
        capture_output=True, text=True, timeout=120)
    p = subprocess.run(
        [exe] + flags + ["--user-data-dir=" + os.path.join(tmp, "ud2"),
                         "--screenshot=" + shot, url],
        capture_output=True, text=True, timeout=120)
    d = dom.stdout
    ok(dom.returncode == 0 and '<svg class="graph"' in d and
       d.count('class="node') == 3,
       "Chromium's DOM: the graph with its three services") \
        or note(dom.stderr[-2000:])
    m = re.search(r'<g class="edge ([a-z]+) suspect" id="suspect-edge">'
                  r'<title>([^<]*)</title>', d)
    ok(m and m.group(2).startswith("api \u2192 db"),
       "Chromium's DOM: the edge api -> db is the marked suspect (%s)" %
       (m.group(0)[:90] if m else None))
    ok(re.search(r'<tr class="failed"><td class="name">api-db</td>', d) and
       re.search(r'<tr class="failed"><td class="name">e2e</td>', d) and
       '<details class="output" open="">' in d,
       "Chromium's DOM: the failing suites, the first one's output open")
    ok('id="timeline"' in d and d.count('class="bar ') > 10,
       "Chromium's DOM: the timeline of bring-up, stages and suites")
    if not ok(p.returncode == 0 and os.path.exists(shot),
              "Chromium took a screenshot (%s)" % shot):
        note(p.stderr[-2000:])
        return
    w, h, rows = png_pixels(shot)
    count = {}
    for row in rows:
        for px in row:
            count[px] = count.get(px, 0) + 1
    box, halo, red = (0xe8, 0xee, 0xfc), (0xff, 0xe0, 0x82), (0xc6, 0x28,
                                                               0x28)
    ok(count.get(box, 0) > 3 * 100 * 30,
       "the screenshot shows the graph's service boxes (%d px)" %
       count.get(box, 0))
    run = longest_column_run(rows, halo)
    ok(run >= 60, "the screenshot shows the suspect edge's band, %d px "
       "tall" % run)
    ok(count.get(red, 0) > 2000,
       "the screenshot shows the failures' red (%d px)" % count.get(red, 0))
    note("screenshot: %s (%dx%d)" % (shot, w, h))


# ---- the failing run ------------------------------------------------------

def failing_run(tmp):
    repo = os.path.join(tmp, "repo")
    wd = os.path.join(repo, "env")
    shutil.copytree(ENVDIR, wd)
    have_git = shutil.which("git") is not None
    if have_git:
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "testenv")
        git(repo, "remote", "add", "origin",
            "https://builder:ghp_s3cr3tT0ken@git.example.invalid/shop.git")
    with open(os.path.join(wd, "orchestrate.yaml"), "a") as f:
        f.write(HOSTILE_SUITE)
        f.write("mask: [LICENSE_SERIAL]\n")
    with open(os.path.join(wd, "notes.txt"), "w") as f:
        f.write("untracked\n")
    summary = os.path.join(tmp, "step-summary.md")
    with open(summary, "w") as f:
        f.write("previous step\n")
    project = "rpt-%d" % os.getpid()
    rep = os.path.join(tmp, "report")
    t0 = time.monotonic()
    p = orch(["test", "--strategy", "top-down", "--report-dir", rep], wd,
             project, {"DB_SCHEMA": "2", "GITHUB_STEP_SUMMARY": summary,
                       "GIT_CEILING_DIRECTORIES": tmp})
    note("test took %.1fs, exit %d" % (time.monotonic() - t0, p.returncode))
    ok(p.returncode == 1, "a failing run: exit 1") or note(p.out + p.err)
    ok("\x1b" not in p.out and "started" in p.out and
       "stage 3/3" in p.out and "diagnosis: suspect: api -> db" in p.out,
       "off a terminal (CI set): plain lines, no escape codes, services "
       "starting and ready, stages, the diagnosis")
    names = sorted(os.listdir(rep))
    ok(all(n in names for n in ("report.json", "junit.xml", "report.html",
                                "logs")),
       "the report directory has report.json, junit.xml, report.html, "
       "logs/ (%s)" % names)
    with open(os.path.join(rep, "report.json"), "rb") as f:
        raw = f.read()
    r = json.loads(raw)
    check_structure(r)
    logs = sorted(os.listdir(os.path.join(rep, "logs")))
    want = {"db.log", "db-stub.log", "api.log", "api-stub.log", "web.log"}
    runs = [(s["index"], u) for s in r["stages"] for u in s["suites"]
            if u["attempts"]]
    want |= {os.path.basename(u["log"]) for _, u in runs}
    ok(want <= set(logs) and all(u["log"] and os.path.exists(
        os.path.join(rep, u["log"])) for _, u in runs),
       "logs/ has every container's log: services, stubs, each of the %d "
       "suite runs" % len(runs)) or note("missing: %s" %
                                         sorted(want - set(logs)))
    g = r["git"]
    if have_git:
        head = git(repo, "rev-parse", "HEAD").stdout.strip()
        ok(g and g["commit"] == head and g["branch"] == "main" and
           g["dirty"] and " M env/orchestrate.yaml" in g["dirty_files"] and
           "?? env/notes.txt" in g["dirty_files"] and
           g["remote"] == "origin" and
           g["remote_url"] == "https://git.example.invalid/shop.git",
           "git state: commit, branch, dirty files, the remote without "
           "its credentials") or note(json.dumps(g))
        ok(not any(f.startswith("?? report") for f in g["dirty_files"]),
           "git state: the report directory does not count as a change")
    else:
        skip("git state of a dirty repository", "git is not installed")
    d = r["diagnosis"]
    ok([tuple(e) for e in d["suspects"]] == [("api", "db")],
       "report.json: the suspect is api -> db")
    hostile = [u for s in r["stages"] for u in s["suites"]
               if u["name"] == "hostile"]
    h = hostile[0] if hostile else None
    ok(h and h["status"] == "passed" and h["output_bytes"] > 10000000 and
       len(h["output_tail"].encode()) <= 8192 and
       "end ]]> " in h["output_tail"] and
       h["output_tail"].rstrip().endswith(" ***"),
       "a suite printing 10 MB: its count kept, the tail bounded, masked")
    ok(h and h["junit"] and h["junit"][0]["suites"][0]["name"] == "inner" and
       [c["status"] for c in h["junit"][0]["suites"][0]["cases"]] ==
       ["passed", "failed"],
       "the suite's own JUnit file is read into report.json")
    sizes = {n: os.path.getsize(os.path.join(rep, n))
             for n in ("report.json", "junit.xml", "report.html")}
    note("sizes: %s" % sizes)
    ok(all(v < 512 << 10 for v in sizes.values()),
       "every file bounded despite 10 MB of output (%s)" % sizes)

    # junit.xml
    jpath = os.path.join(rep, "junit.xml")
    if shutil.which("xmllint"):
        v = subprocess.run(["xmllint", "--noout", "--schema", XSD, jpath],
                           capture_output=True, text=True)
        ok(v.returncode == 0, "junit.xml validates against junit-10.xsd") \
            or note(v.stderr)
    else:
        skip("junit.xml validates against junit-10.xsd", "xmllint missing")
    root = ET.parse(jpath).getroot()
    stages = root.findall("testsuite")
    inner = [t for st in stages for t in st.findall("testsuite")]
    ok(len(stages) == 3 and root.get("failures") == "2" and
       inner and inner[0].get("name") == "hostile / inner",
       "junit.xml: a testsuite per stage, the hostile suite's own results "
       "inside")
    jtext = open(jpath, encoding="utf-8").read()
    ok("\x1b" not in jtext and "]]>" not in jtext.replace("]]&gt;", ""),
       "junit.xml: terminal escapes gone, ]]> escaped")

    check_html(tmp, rep)

    # secrets: nowhere in what orchestrate wrote or printed
    leaked = []
    for base, _, files in os.walk(rep):
        if os.path.relpath(base, rep).startswith("artifacts"):
            continue  # the suites' own files, copied as they are
        for f in files:
            data = open(os.path.join(base, f), "rb").read()
            leaked += ["%s: %s" % (f, s) for s in SECRETS
                       if s.encode() in data]
    text = p.out + p.err + open(summary).read()
    leaked += ["console/summary: " + s for s in SECRETS if s in text]
    leaked += ["credentials in report.json"] if b"ghp_s3cr3tT0ken" in raw \
        else []
    ok(not leaked, "no secret in report.json, junit.xml, report.html, "
       "logs/, the console or the Markdown summary (one listed under "
       "mask:, one secret-looking)") or note("\n".join(leaked))
    for f in ("report.json", "junit.xml", "report.html"):
        try:
            open(os.path.join(rep, f), encoding="utf-8", errors="strict") \
                .read()
            valid = True
        except UnicodeDecodeError:
            valid = False
        ok(valid, "%s is valid UTF-8 despite the invalid bytes printed" % f)
    s = open(summary, encoding="utf-8").read()
    ok(s.startswith("previous step\n") and
       "orchestrate test failed" in s and "**api\\-db**" not in s and
       "**api-db** in stage 3" in s and "api \u2192 db" in s,
       "GITHUB_STEP_SUMMARY: the Markdown summary appended after what was "
       "there") or note(s)
    again = subprocess.run([ORCH, "report", rep], capture_output=True,
                           text=True)
    ok(again.returncode == 0 and "diagnosis: suspect: api -> db" in
       again.stdout, "orchestrate report DIR re-renders the summary")
    ok(not leftovers(project), "failing run: nothing left")
    clean(project)
    return sizes


def outside_and_unwritable(tmp):
    wd = os.path.join(tmp, "plain")
    os.makedirs(wd)
    with open(os.path.join(wd, "orchestrate.yaml"), "w") as f:
        f.write(TINY)
    project = "rpto-%d" % os.getpid()
    rep = os.path.join(tmp, "plain-report")
    p = orch(["test", "--report-dir", rep], wd, project,
             {"GIT_CEILING_DIRECTORIES": tmp})
    r = json.load(open(os.path.join(rep, "report.json")))
    ok(p.returncode == 1 and r["git"] is None,
       "outside any repository: report.json's git is null, no error") \
        or note(p.out + p.err)
    ok(not leftovers(project), "outside a repository: nothing left")
    clean(project)

    # -q: results and the diagnosis only; -v: every suite's output
    p = orch(["test", "-q", "--report-dir", rep], wd, project)
    ok(p.returncode == 1 and "quick" in p.out and "chatty" in p.out and
       "test failed" in p.out and "stage 1/1" not in p.out and
       "started" not in p.out and "| quick" not in p.out,
       "-q: each suite's result and the totals only") or note(p.out)
    p = orch(["test", "-v", "--report-dir", rep], wd, project)
    ok(p.returncode == 1 and "    | hello from chatty" in p.out and
       "    | quick" in p.out and "stage 1/1" in p.out,
       "-v: each suite's output as it ends, passing ones too") \
        or note(p.out)
    ok(not leftovers(project), "-q, -v: nothing left")
    clean(project)

    # a report directory under a regular file cannot be made
    blocker = os.path.join(tmp, "a-file")
    open(blocker, "w").close()
    p = orch(["test", "--report-dir", os.path.join(blocker, "rep")], wd,
             project)
    ok(p.returncode == 5 and "test failed: 1 passed, 1 failed" in p.out and
       "quick" in p.out and "report could not be written" in p.err,
       "a report directory that cannot be written: exit 5, the results "
       "still on the console") or note(p.out + p.err)
    ok(not leftovers(project), "unwritable report directory: torn down "
       "all the same")
    clean(project)


def on_terminal(tmp, extra):
    """test on a pseudo-terminal: what it printed."""
    wd = os.path.join(tmp, "plain")
    project = "rptt-%d" % os.getpid()
    env = run_env(extra)
    env.pop("CI", None)
    env["TERM"] = "xterm"
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(wd)
        os.execve(ORCH, [ORCH, "-p", project, "test", "--report-dir",
                         os.path.join(tmp, "tty-report")], env)
    out = b""
    while True:
        r, _, _ = select.select([fd], [], [], 120)
        if not r:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    ok(not leftovers(project), "on a terminal: nothing left")
    clean(project)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


def terminal(tmp):
    code, out = on_terminal(tmp, {})
    ok(code == 1 and "\x1b[32m" in out and "\x1b[1;31m" in out and
       "\r\x1b[K" in out and "starting" in out,
       "on a terminal: colour, and a status line of what is in flight "
       "rewritten in place") or note(repr(out[-1500:]))
    code, out = on_terminal(tmp, {"NO_COLOR": "1"})
    ok(code == 1 and "\x1b" not in out and "quick" in out,
       "on a terminal with NO_COLOR: plain lines, no escape code") \
        or note(repr(out[-1500:]))


def main():
    if os.environ.get("ORCHESTRATE_NO_ENGINE") == "1":
        print("1..0 # SKIP ORCHESTRATE_NO_ENGINE=1")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        failing_run(tmp)
        outside_and_unwritable(tmp)
        terminal(tmp)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
