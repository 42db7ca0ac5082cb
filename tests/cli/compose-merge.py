#!/usr/bin/env python3
"""compose-merge.py ORCHESTRATE: several Compose files read as one, through
the real binary (suite cli), as TAP.

Each case writes a project as several files -- -f files merged in order,
compose.yaml with its override found without -f, COMPOSE_FILE, include:,
extends: from another file, !reset and !override, --profile -- and the
same manifest written as one file. `plan --json` for every strategy and
`graph` must print the same for both: the merge gives the manifest the
single file is.
"""
import os
import subprocess
import sys
import tempfile

exe = os.path.abspath(sys.argv[1])
results = []
STRATEGIES = ["big-bang", "incremental", "bottom-up", "top-down",
              "sandwich"]


def ok(cond, what, detail=""):
    results.append(cond)
    print(("ok" if cond else "not ok") + " %d - %s" % (len(results), what))
    if not cond:
        for line in str(detail).splitlines()[:8]:
            print("# " + line)


def run(args, cwd, env=None):
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
         "HOME": "/nonexistent"}
    e.update(env or {})
    p = subprocess.run([exe] + args, cwd=cwd, env=e, capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def outputs(args, cwd, env=None):
    """What the commands print, or the error."""
    out = []
    for s in STRATEGIES:
        rc, o, e = run(args + ["plan", "--json", "--strategy", s], cwd, env)
        out.append(o if rc == 0 else "exit %d: %s" % (rc, e))
    rc, o, e = run(args + ["graph"], cwd, env)
    out.append(o if rc == 0 else "exit %d: %s" % (rc, e))
    return out


def case(name, files, single, args, env=None, single_args=None):
    with tempfile.TemporaryDirectory() as tmp:
        for path, text in files.items():
            full = os.path.join(tmp, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)
        with open(os.path.join(tmp, "single.yaml"), "w") as f:
            f.write(single)
        merged = outputs(args, tmp, env)
        alone = outputs((single_args or []) + ["-f", "single.yaml"], tmp)
        ok(all(not o.startswith("exit") for o in merged),
           "%s: the files load" % name, "\n".join(merged))
        ok(merged == alone, "%s: plan --json and graph equal to one file"
           % name, "merged: %s\nsingle: %s" % (merged[0], alone[0]))


BASE = """name: shop
services:
  db:
    image: local/busybox
  api:
    image: local/busybox
    depends_on: [db]
    stub: {image: local/busybox}
"""
OVERRIDE = """services:
  api:
    depends_on:
      cache: {condition: service_healthy}
  cache:
    image: local/busybox
  web:
    image: local/busybox
    depends_on: [api]
suites:
  smoke: {targets: [web], host: true, command: [./smoke.sh]}
"""
MERGED = """name: shop
services:
  db:
    image: local/busybox
  api:
    image: local/busybox
    depends_on:
      db: {condition: service_started}
      cache: {condition: service_healthy}
    stub: {image: local/busybox}
  cache:
    image: local/busybox
  web:
    image: local/busybox
    depends_on: [api]
suites:
  smoke: {targets: [web], host: true, command: [./smoke.sh]}
"""

case("two -f files", {"base.yaml": BASE, "override.yaml": OVERRIDE},
     MERGED, ["-f", "base.yaml", "-f", "override.yaml"])
case("compose.yaml and compose.override.yaml, without -f",
     {"compose.yaml": BASE, "compose.override.yaml": OVERRIDE}, MERGED, [])
case("COMPOSE_FILE", {"base.yaml": BASE, "override.yaml": OVERRIDE},
     MERGED, [], env={"COMPOSE_FILE": "base.yaml:override.yaml"})
case("include", {
    "compose.yaml": """name: shop
include:
  - path: backend/compose.yaml
services:
  api:
    image: local/busybox
    depends_on: [db, cache]
    stub: {image: local/busybox}
  web:
    image: local/busybox
    depends_on: [api]
suites:
  smoke: {targets: [web], host: true, command: [./smoke.sh]}
""",
    "backend/compose.yaml": """services:
  db:
    image: local/busybox
  cache:
    image: "local/busybox:${CACHE_TAG}"
""",
    "backend/.env": "CACHE_TAG=latest\n"}, """name: shop
services:
  db:
    image: local/busybox
  cache:
    image: local/busybox:latest
  api:
    image: local/busybox
    depends_on: [db, cache]
    stub: {image: local/busybox}
  web:
    image: local/busybox
    depends_on: [api]
suites:
  smoke: {targets: [web], host: true, command: [./smoke.sh]}
""", [])
case("extends from another file", {
    "compose.yaml": """name: shop
services:
  db:
    image: local/busybox
  api:
    extends: {file: common/base.yaml, service: app}
    depends_on: [db]
  worker:
    extends: api
""",
    "common/base.yaml": """services:
  app:
    image: local/busybox
    healthcheck: {test: [CMD, "true"]}
    depends_on:
      db: {condition: service_healthy}
"""}, """name: shop
services:
  db:
    image: local/busybox
  api:
    image: local/busybox
    healthcheck: {test: [CMD, "true"]}
    depends_on:
      db: {condition: service_started}
  worker:
    image: local/busybox
    healthcheck: {test: [CMD, "true"]}
    depends_on:
      db: {condition: service_started}
""", [])
case("!reset and !override", {
    "base.yaml": BASE,
    "reset.yaml": """services:
  api:
    depends_on: !reset []
    stub: !override {image: local/bookworm}
"""}, """name: shop
services:
  db:
    image: local/busybox
  api:
    image: local/busybox
    stub: {image: local/bookworm}
""", ["-f", "base.yaml", "-f", "reset.yaml"])
case("--profile", {
    "compose.yaml": BASE + """  debug:
    image: local/busybox
    depends_on: [api]
    profiles: [debug]
  never:
    image: local/busybox
    profiles: [other]
"""}, BASE + """  debug:
    image: local/busybox
    depends_on: [api]
""", ["--profile", "debug"])
case("COMPOSE_PROFILES", {
    "compose.yaml": BASE + """  debug:
    image: local/busybox
    depends_on: [api]
    profiles: [debug]
"""}, BASE + """  debug:
    image: local/busybox
    depends_on: [api]
""", [], env={"COMPOSE_PROFILES": "debug,unused"})


def discovery(files, used, warns):
    """Which file is read without -f, and whether two names warn."""
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            with open(os.path.join(tmp, path), "w") as f:
                f.write("name: n-%s\nservices:\n  %s: {image: "
                        "local/busybox}\n" % (
                            path.replace(".", "-"),
                            path.split(".")[0].replace("-", "")))
        rc, o, e = run(["plan", "--json"], tmp)
        svc = used.split(".")[0].replace("-", "")
        warned = "found several manifests" in e
        ok(rc == 0 and '"%s"' % svc in o and warned == warns and
           (not warns or "using '%s'" % used in e),
           "%s: %s is read, %s" % (" and ".join(files), used,
                                  "with a warning" if warns else
                                  "no warning"), e)


# orchestrate.yaml is the deliberate choice; two Compose names warn
discovery(["orchestrate.yaml", "docker-compose.yml"], "orchestrate.yaml",
          False)
discovery(["orchestrate.yml", "compose.yaml"], "orchestrate.yml", False)
discovery(["orchestrate.yaml", "orchestrate.yml"], "orchestrate.yaml", True)
discovery(["compose.yaml", "docker-compose.yml"], "compose.yaml", True)


# a subdirectory finds the nearest parent's manifest, as Compose does;
# the project is named after that directory, and its paths are relative
# to it
with tempfile.TemporaryDirectory() as tmp:
    top = os.path.join(tmp, "Shop-Top")
    sub = os.path.join(top, "a", "b")
    os.makedirs(sub)
    with open(os.path.join(top, "compose.yaml"), "w") as f:
        f.write("services:\n  web: {build: ctx}\n")
    with open(os.path.join(top, "compose.override.yaml"), "w") as f:
        f.write("services:\n  extra: {image: local/busybox}\n")
    os.makedirs(os.path.join(top, "ctx"))
    rc, o, e = run(["plan", "--json"], sub)
    # status names the project (it needs an engine: without one, exit 3)
    rc2, o2, e2 = run(["status"], sub)
    o += o2 + e2
    ok(rc == 0 and '"extra"' in o and
       (rc2 == 3 or "project 'shop-top'" in o),
       "a subdirectory two levels down finds the parent's compose.yaml "
       "and its override; the project is named after that directory", o + e)
    rc, o, e = run(["validate"], sub)
    ok(rc == 0, "validate there: the build context is the parent's ctx/",
       e)
    empty = os.path.join(tmp, "empty")
    os.makedirs(empty)
    rc, o, e = run(["validate"], empty)
    ok(rc == 2 and "its parents" in e,
       "no manifest up to the root: exit 2, saying where it looked", e)

print("1..%d" % len(results))
sys.exit(0 if all(results) else 1)
