#!/usr/bin/env python3
"""report.py: `orchestrate report` over canned report.json documents, no
engine needed (suite cli, issue 11), as TAP.

- a failing run (a flaky suite, a failed one retried, a stage that could
  not be brought up with its log tail, a suite's own JUnit results, the
  git state) whose strings are hostile: terminal escapes, invalid UTF-8,
  "]]>", NUL, characters XML forbids, markup, Markdown links and images,
  table pipes, 200 KiB of output;
- junit.xml (--format junit) validates with xmllint against the xunit
  plugin's junit-10.xsd (tests/junit) and carries one testsuite per
  stage, one testcase per suite run, flakyFailure / rerunFailure for the
  attempts before the last, the environment's error with the log tail,
  the suite's own results under it, the hostile text cleaned;
- report.html: no script, nothing fetched (CSP, no src= or external
  href), the graph with the suspect edge marked, the failing suites'
  output, every hostile string escaped;
- the text summary has no raw control characters; the Markdown summary
  no live link, image, HTML or extra table cell;
- documents that are missing fields or have the wrong types still
  render, and valid files come out; what is not a report (no file, not
  JSON, another version) exits 2 with a message.

usage: report.py ORCHESTRATE SOURCE_ROOT
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

ORCH, ROOT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
XSD = os.path.join(ROOT, "tests", "junit", "junit-10.xsd")
results = []
CONTROLS = [chr(c) for c in range(32) if c not in (9, 10)] + ["\x7f"]

HOSTILE = ("\x1b[31mred\x1b[0m ]]> <script>alert(1)</script> & \"q\" 'a' "
           "\x07\x08\x0b [link](http://evil.example/) "
           "![img](http://evil.example/x.png) | cell | @someone `code`")


def ok(cond, what):
    results.append(bool(cond))
    print(("ok" if cond else "not ok") + " %d - %s" % (len(results), what))
    sys.stdout.flush()
    return cond


def skip(what, why):
    results.append(True)
    print("ok %d - %s # SKIP %s" % (len(results), what, why))


def note(text):
    for line in str(text).splitlines()[:40]:
        print("# " + line)


def edge(a, b):
    return [a, b]


def suite(name, status, stage, edges, stubs=(), attempts=None, output="",
          summary=None, junit=None):
    if attempts is None:
        attempts = [{"exit_code": 0 if status == "passed" else 1,
                     "timed_out": False, "started_ms": 1000,
                     "ended_ms": 1500, "error": None}]
    return {
        "name": name, "status": status, "targets": ["api"], "host": False,
        "rerun": False, "previous_stage": None, "services": ["api", "db"],
        "stubs": list(stubs), "edges": edges, "new_edges": edges,
        "started_ms": 1000 + 3000 * stage, "ended_ms": 1500 + 3000 * stage,
        "duration_ms": 500,
        "exit_code": None if status == "skipped" else
        (0 if status in ("passed", "flaky") else 1),
        "summary": summary or status, "attempts": attempts,
        "output_tail": output, "output_bytes": len(output.encode()),
        "artifacts": {"dir": None, "files": [], "refused": []},
        "junit": junit or [],
        "log": "logs/suite-%s-stage%d.log" % (name, stage + 1),
    }


def service(name, mode, started, ready, swapped=None):
    return {"name": name, "mode": mode, "state": "ready",
            "container": "p-r-" + name, "container_id": "c0ffee" + name,
            "image": name + ":orchestrate", "image_id": "sha256:ab" + name,
            "image_digest": None, "started_ms": started, "ready_ms": ready,
            "swapped_ms": swapped, "swap_gap_ms": 300 if swapped else None,
            "endpoints": [{"host": "127.0.0.1", "port": 32768,
                           "container_port": 8080, "protocol": "tcp"}]}


def stage(index, label, status, real, stubs, new_edges, suites, services,
          error=None):
    return {"index": index, "label": label, "status": status, "real": real,
            "stubs": stubs, "absent": [], "new_real": real[:1],
            "stubs_started": stubs, "stubs_replaced": [],
            "new_edges": new_edges, "started_ms": 3000 * index,
            "ready_ms": None if error else 3000 * index + 800,
            "ended_ms": 3000 * index + 2500,
            "bring_up_ms": None if error else 800, "error": error,
            "services": services, "suites": suites}


def canned():
    big = ("line of output %d " + HOSTILE + "\n")
    output = "".join(big % i for i in range(1500))  # ~200 KiB
    junit = [{"file": "reports/junit.xml", "error": None, "dropped_cases": 0,
              "suites": [{"name": "pytest " + HOSTILE, "time": 1.5,
                          "cases": [
                              {"name": "test_ok", "classname": "t.api",
                               "time": 0.5, "status": "passed",
                               "message": None, "type": None, "text": None},
                              {"name": "test_" + HOSTILE, "classname": "t.api",
                               "time": 1, "status": "failed",
                               "message": "assert " + HOSTILE,
                               "type": "AssertionError",
                               "text": "trace ]]> " + HOSTILE}]}]}]
    s1 = stage(0, "levels <= 1 real", "passed", ["db", "api"], ["web"],
               [edge("api", "db")],
               [suite("api-db", "flaky", 0, [edge("api", "db")],
                      attempts=[{"exit_code": 1, "timed_out": False,
                                 "started_ms": 1000, "ended_ms": 1200,
                                 "error": None},
                                {"exit_code": 0, "timed_out": False,
                                 "started_ms": 1200, "ended_ms": 1500,
                                 "error": None}],
                      output="ok on the second go\n")],
               [service("db", "real", 100, 600),
                service("api", "real", 700, 800),
                service("web", "stub", 100, 300)])
    s2 = stage(1, "every level real", "failed", ["db", "api", "web"], [],
               [edge("web", "api")],
               [suite("e2e", "failed", 1,
                      [edge("api", "db"), edge("web", "api")],
                      attempts=[{"exit_code": 1, "timed_out": False,
                                 "started_ms": 4000, "ended_ms": 4200,
                                 "error": None},
                                {"exit_code": 1, "timed_out": False,
                                 "started_ms": 4200, "ended_ms": 4500,
                                 "error": None}],
                      output=output, summary="exited 1 " + HOSTILE,
                      junit=junit),
                suite("\u00e9t\u00e9-" + HOSTILE, "timed out", 1,
                      [edge("web", "api")],
                      attempts=[{"exit_code": None, "timed_out": True,
                                 "started_ms": 4000, "ended_ms": 4500,
                                 "error": None}],
                      summary="timed out after 1s")],
               [service("db", "real", 100, 600),
                service("api", "real", 700, 800),
                service("web", "real", 3100, 3700, swapped=3800)])
    s3 = stage(2, "one more", "error", ["db", "api", "web", "cache"], [],
               [edge("web", "cache")],
               [suite("later", "skipped", 2, [], summary=None)], [],
               error={"service": "cache",
                      "message": "service 'cache': not ready " + HOSTILE,
                      "log_tail": "boom\n" + HOSTILE + "\n"})
    return {
        "version": 1, "run_id": "0123456789ab", "project": "shop",
        "manifest": "orchestrate.yaml", "strategy": "bottom-up",
        "middle": None, "engine": "20.10.24 (API 1.41)",
        "started_at": "2026-01-01T00:00:00.000Z",
        "ended_at": "2026-01-01T00:00:09.000Z", "duration_ms": 9000,
        "result": "failed", "exit_code": 1, "kept": False,
        "git": {"commit": "a" * 40, "branch": "main " + HOSTILE,
                "dirty": True, "dirty_count": 2,
                "dirty_files": [" M src/" + HOSTILE, "?? new.txt"],
                "remote": "origin",
                "remote_url": "https://example.invalid/shop.git"},
        "counts": {"passed": 0, "failed": 1, "flaky": 1, "timed_out": 1,
                   "skipped": 1},
        "services": [
            {"name": "db", "level": 0, "external": False, "has_stub": False,
             "depends_on": []},
            {"name": "cache", "level": 0, "external": True,
             "has_stub": True, "depends_on": []},
            {"name": "api", "level": 1, "external": False, "has_stub": True,
             "depends_on": ["db"]},
            {"name": "web", "level": 2, "external": False, "has_stub": True,
             "depends_on": ["api", "cache"]},
        ],
        "stages": [s1, s2, s3],
        "diagnosis": {
            "failed": True, "localised": True,
            "summary": "suspect: web -> api " + HOSTILE,
            "first_failing_stage": 1, "bring_up_failure": None,
            "suspects": [edge("web", "api")],
            "failures": [{"suite": "e2e", "stage": 1, "new_real": ["web"],
                          "candidates": [edge("web", "api")],
                          "suspects": [edge("web", "api")],
                          "mismatch": {"service": "web",
                                       "passed_in_stage": 0,
                                       "edges": [edge("web", "api")]}}],
        },
    }


def write_doc(d, doc, raw_extra=None):
    os.makedirs(d, exist_ok=True)
    data = json.dumps(doc, indent=1).encode()
    if raw_extra:
        # invalid UTF-8 inside a string, as a careless writer leaves it
        data = data.replace(b"ok on the second go", raw_extra)
    with open(os.path.join(d, "report.json"), "wb") as f:
        f.write(data)


def report(*args):
    p = subprocess.run([ORCH, "report"] + list(args), capture_output=True,
                       timeout=60)
    p.text = p.stdout.decode("utf-8", "replace")
    return p


def xmllint(path):
    if not shutil.which("xmllint"):
        return None
    return subprocess.run(["xmllint", "--noout", "--schema", XSD, path],
                          capture_output=True, text=True)


def raw_controls(text):
    return sorted(set(ch for ch in text if ch in CONTROLS))


def check_junit(tmp, d):
    p = report("--format", "junit", d)
    path = os.path.join(tmp, "junit.xml")
    with open(path, "wb") as f:
        f.write(p.stdout)
    ok(p.returncode == 0 and p.stdout.startswith(b"<?xml"),
       "junit: rendered")
    v = xmllint(path)
    if v is None:
        skip("junit.xml validates against junit-10.xsd",
             "xmllint missing (apt-get install libxml2-utils)")
    else:
        ok(v.returncode == 0, "junit.xml validates against junit-10.xsd") \
            or note(v.stderr)
    try:
        root = ET.fromstring(p.stdout)
    except ET.ParseError as e:
        ok(False, "junit.xml parses: %s" % e)
        return
    stages = root.findall("testsuite")
    ok(root.tag == "testsuites" and len(stages) == 3 and
       root.get("tests") == "5" and root.get("failures") == "2" and
       root.get("errors") == "1",
       "junit: one testsuite per stage, counts over the run")
    cases = {c.get("name"): c for st in stages for c in st.findall("testcase")}
    flaky = cases.get("api-db")
    ok(flaky is not None and flaky.find("failure") is None and
       len(flaky.findall("flakyFailure")) == 1,
       "junit: a flaky suite passes with a flakyFailure for its first try")
    e2e = cases.get("e2e")
    ok(e2e is not None and e2e.find("failure") is not None and
       len(e2e.findall("rerunFailure")) == 1,
       "junit: a failed suite retried: failure, and rerunFailure for the "
       "attempt before")
    env = [c for c in stages[2].findall("testcase")
           if c.get("name", "").startswith("environment")]
    ok(env and env[0].find("error") is not None and
       "boom" in (env[0].find("error").text or ""),
       "junit: a stage that could not be brought up is an error with the "
       "log tail")
    merged = stages[1].findall("testsuite")
    ok(len(merged) == 1 and merged[0].get("name").startswith("e2e / ") and
       len(merged[0].findall("testcase")) == 2 and
       merged[0].get("failures") == "1",
       "junit: the suite's own JUnit results are a testsuite inside its "
       "stage's")
    text = p.stdout.decode("utf-8")
    ok(not raw_controls(text) and "\x1b" not in text,
       "junit: no control characters, terminal escapes removed")
    body = e2e.find("failure").text or ""
    ok("red" in body and "]]>" in body and "<script>" in body,
       "junit: hostile output kept as text (]]>, markup) after escaping")
    ok(len(p.stdout) < 400 << 10, "junit: bounded by the document (%d "
       "bytes)" % len(p.stdout))


def check_html(d):
    p = report("--format", "html", d)
    html = p.text
    ok(p.returncode == 0 and html.startswith("<!DOCTYPE html>"),
       "html: rendered")
    ok("<script" not in html.lower() and
       not re.search(r"\s(src|srcset)\s*=", html, re.I) and
       not re.search(r"href\s*=\s*\"(https?:|//)", html, re.I) and
       "@import" not in html and not re.search(r"url\((?!#)", html),
       "html: no script, nothing to fetch")
    ok("Content-Security-Policy" in html and "default-src 'none'" in html,
       "html: a CSP forbids fetching anything")
    ok("&lt;script&gt;alert(1)&lt;/script&gt;" in html and
       "\x1b" not in html and not raw_controls(html),
       "html: hostile strings escaped, controls and escapes removed")
    ok('id="suspect-edge"' in html and 'class="edge fail suspect"' in html,
       "html: the suspect edge web -> api is marked")
    ok('class="edge mixed"' in html and 'class="edge none"' in html,
       "html: edges coloured by their suites: api -> db flaky, then "
       "failed; web -> cache never integrated")
    ok(html.count('class="node') == 4 and "has-stub" in html and
       "external" in html, "html: every service is a node, stubs marked")
    ok('id="timeline"' in html and html.count('class="bar ') >= 8,
       "html: a timeline with bars for bring-up, stages and suites")
    ok('<details class="output" open>' in html and
       "output of e2e" in html,
       "html: the failing suite's output is expandable, the first open")


def check_text(d):
    p = report(d)
    ok(p.returncode == 0 and "stage 2/3" in p.text and
       "e2e" in p.text and "diagnosis: suspect: web -> api" in p.text,
       "text: the console summary with stages, suites, the diagnosis")
    ok(not raw_controls(p.text) and "\\x1b[31m" in p.text,
       "text: control characters printed escaped, never raw")
    ok("git: aaaaaaaaaaaa on main" in p.text and "dirty" in p.text,
       "text: the git state")


def check_markdown(d):
    p = report("--format", "markdown", d)
    md = p.text
    ok(p.returncode == 0 and "| 2 | every level real | **failed** |" in md,
       "markdown: the result per stage")
    ok("**e2e** in stage 2" in md and "**Diagnosis:**" in md,
       "markdown: failing suites and the diagnosis")
    bad = [s for s in (r"(?<!\\)\]\(http", "<script", r"(?<!\\)!\[",
                       r"\| cell \|", r"(?<!\\)`code", r"(?<!\\)@some")
           if re.search(s, md)]
    ok(not bad and not raw_controls(md),
       "markdown: no link, image, markup, table cell, code span or "
       "mention from a string (%s)" % bad)
    rows = [l for l in md.splitlines() if l.startswith("| ")]
    ok(all(l.count(" | ") == 3 for l in rows[2:]),
       "markdown: every table row has its four cells")


def check_broken(tmp):
    """Missing fields and wrong types still render."""
    d = os.path.join(tmp, "broken")
    doc = {"version": 1, "stages": [
        {"suites": "not a list", "services": [1, None, {"name": 3}],
         "error": {"message": None}},
        {"label": ["x"], "suites": [{"name": None, "status": 7},
                                    {"attempts": [1, 2, 3]}],
         "new_edges": [["a"], [1, 2], "x"]}],
        "services": [1, {"name": "a", "level": -5, "depends_on": [9, "a",
                                                                  "zz"]},
                     {"name": "b", "level": 1e300}],
        "diagnosis": {"suspects": [["a", "a"]], "failures": [3]}}
    write_doc(d, doc)
    outs = {}
    for f in ("text", "junit", "html", "markdown"):
        p = report("--format", f, d)
        outs[f] = p
        ok(p.returncode == 0, "a document with wrong types: %s renders" % f) \
            or note(p.stderr)
    path = os.path.join(tmp, "broken.xml")
    with open(path, "wb") as f:
        f.write(outs["junit"].stdout)
    v = xmllint(path)
    if v is not None:
        ok(v.returncode == 0, "a document with wrong types: junit.xml "
           "still validates") or note(v.stderr)


def check_not_reports(tmp):
    cases = {"missing": None, "not JSON": b"{", "an array": b"[1]",
             "another version": b'{"version": 2, "stages": [], '
                                b'"services": []}',
             "no stages": b'{"version": 1}'}
    for what, data in cases.items():
        d = os.path.join(tmp, "nr-" + what.replace(" ", "-"))
        os.makedirs(d)
        if data is not None:
            with open(os.path.join(d, "report.json"), "wb") as f:
                f.write(data)
        p = report(d)
        ok(p.returncode == 2 and p.stderr.startswith(b"orchestrate: ") and
           not p.stdout, "not a report (%s): exit 2 with a message" % what) \
            or note(p.stderr)
    p = report("--format", "pdf", tmp)
    ok(p.returncode == 2 and b"unknown format" in p.stderr,
       "an unknown format: exit 2")
    # a file given directly, and the default: .orchestrate/runs/latest
    d = os.path.join(tmp, "proj", ".orchestrate", "runs", "r1")
    write_doc(d, canned())
    os.symlink("r1", os.path.join(tmp, "proj", ".orchestrate", "runs",
                                  "latest"))
    a = report(os.path.join(d, "report.json"))
    b = subprocess.run([ORCH, "report"], cwd=os.path.join(tmp, "proj"),
                       capture_output=True, timeout=60)
    ok(a.returncode == 0 and a.stdout == b.stdout,
       "report FILE, and report alone reading .orchestrate/runs/latest")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "run")
        write_doc(d, canned(), raw_extra=b"ok \xff\xfe on the \xc3 second go")
        check_junit(tmp, d)
        check_html(d)
        check_text(d)
        check_markdown(d)
        check_broken(tmp)
        check_not_reports(tmp)
        check_latest(tmp)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


def check_latest(tmp):
    """No DIR: .orchestrate/runs/latest here or in the nearest parent,
    where `test` writes it beside a manifest found up there."""
    proj = os.path.join(tmp, "deep-project")
    sub = os.path.join(proj, "a", "b")
    os.makedirs(sub)
    write_doc(os.path.join(proj, ".orchestrate", "runs", "r1"), canned())
    os.symlink("r1", os.path.join(proj, ".orchestrate", "runs", "latest"))
    p = subprocess.run([ORCH, "report"], cwd=sub, capture_output=True,
                       text=True, errors="replace")
    ok(p.returncode == 0 and "stage" in p.stdout,
       "report without DIR, two directories below the project: the "
       "project's latest run") or note(p.stderr)
    empty = os.path.join(tmp, "no-runs-here")
    os.makedirs(empty)
    p = subprocess.run([ORCH, "report"], cwd=empty, capture_output=True,
                       text=True, errors="replace")
    ok(p.returncode == 2 and ".orchestrate/runs/latest" in p.stderr,
       "report without DIR and no run up to the root: exit 2, naming "
       "what it looked for") or note(p.stderr)


if __name__ == "__main__":
    sys.exit(main())
