#!/usr/bin/env python3
"""key-order.py ORCHESTRATE: the order keys are written in never changes
what a manifest means, through the real binary (suite cli), as TAP.

Each manifest below is written as JSON (which is YAML) several times,
the keys of every mapping the schema describes in a different order: as
given, reversed, sorted and reverse-sorted. Mappings keyed by names keep
theirs (services, suites, volumes, depends_on, environment, labels,
args): their order is part of the meaning. A valid one must validate in every order with the
same `plan --json` for each strategy; an invalid one must fail in every
order with the same message (its line and column aside, since the keys
moved).
"""
import json
import os
import re
import subprocess
import sys
import tempfile

exe = os.path.abspath(sys.argv[1])
results = []


def ok(cond, what, detail=""):
    results.append(cond)
    print(("ok" if cond else "not ok") + " %d - %s" % (len(results), what))
    if not cond:
        for line in str(detail).splitlines()[:5]:
            print("# " + line)


NAMED = {"services", "suites", "volumes", "depends_on", "environment",
         "labels", "args"}


def reorder(value, order, named=False):
    if isinstance(value, dict):
        keys = list(value) if named else order(list(value))
        return {k: reorder(value[k], order, k in NAMED and not named)
                for k in keys}
    if isinstance(value, list):
        return [reorder(v, order) for v in value]
    return value


ORDERS = {
    "as given": lambda ks: ks,
    "reversed": lambda ks: ks[::-1],
    "sorted": sorted,
    "reverse-sorted": lambda ks: sorted(ks, reverse=True),
}
STRATEGIES = ["big-bang", "incremental", "bottom-up", "top-down",
              "sandwich"]

SERVICES = {
    "db": {"image": "postgres:16",
           "healthcheck": {"test": ["NONE"], "disable": False}},
    "api": {"image": "api:1", "build": None,
            "depends_on": {"db": {"condition": "service_healthy"}},
            "ready": {"http": {"port": 8080, "path": "/health"}},
            "stub": {"image": "stub:1", "ready": {"tcp": 8080}}},
}

VALID = {
    # issue 9, bug 2: artifacts before host: true was refused
    "host suite, relative artifacts": {
        "services": SERVICES,
        "suites": {
            "smoke": {"artifacts": ["out/junit.xml"], "targets": ["api"],
                      "host": True, "command": ["./smoke.sh"]},
            "in-container": {"artifacts": "/out/junit.xml",
                             "targets": ["api"], "image": "suite:1",
                             "command": ["./run.sh"]},
        },
    },
    "image and build, environment and env_file": {
        "services": {
            "app": {"image": "app:1", "build": ".",
                    "environment": {"A": "from environment"},
                    "command": "serve --port 80"},
        },
        "suites": {
            "t": {"targets": ["app"], "build": ".", "image": "t:1",
                  "retries": 1, "timeout": "1m", "tags": ["x"]},
        },
    },
}

INVALID = {
    "container suite, relative artifact": (
        {"services": SERVICES,
         "suites": {"s": {"artifacts": ["out/junit.xml"],
                          "targets": ["api"], "image": "suite:1"}}},
        "artifact 'out/junit.xml' must be an absolute path"),
    "host suite with an image": (
        {"services": SERVICES,
         "suites": {"s": {"image": "suite:1", "targets": ["api"],
                          "host": True, "command": ["x"]}}},
        "suite 's' runs on the host and cannot have 'image' or 'build'"),
    "host suite without a command": (
        {"services": SERVICES,
         "suites": {"s": {"artifacts": ["out"], "targets": ["api"],
                          "host": True}}},
        "suite 's' runs on the host and needs a 'command'"),
    "stub without image or build": (
        {"services": {"a": {"stub": {"ready": {"tcp": 1}},
                            "image": "a:1"}}},
        "the stub of service 'a' needs 'image' or 'build'"),
}


def run(path, *args):
    env = dict(os.environ)
    env.pop("ORCHESTRATE_FILE", None)
    env.pop("ORCHESTRATE_PROJECT", None)
    p = subprocess.run([exe, "-f", path] + list(args), capture_output=True,
                       text=True, env=env, timeout=30)
    return p.returncode, p.stdout, p.stderr


def write(tmp, name, manifest, order):
    path = os.path.join(tmp, "%s.yaml" % name)
    with open(path, "w") as f:
        json.dump(reorder(manifest, ORDERS[order]), f, indent=1)
    return path


with tempfile.TemporaryDirectory() as tmp:
    for name, manifest in VALID.items():
        first = {}
        for order in ORDERS:
            path = write(tmp, order.replace(" ", "-"), manifest, order)
            rc, out, err = run(path, "validate")
            ok(rc == 0, "%s, %s: valid" % (name, order), err)
            for s in STRATEGIES:
                rc, out, err = run(path, "plan", "--json", "--strategy", s)
                first.setdefault(s, out)
                ok(rc == 0 and out == first[s],
                   "%s, %s: the same plan --json (%s)" % (name, order, s),
                   err or "not the plan of the first order")
    for name, (manifest, want) in INVALID.items():
        for order in ORDERS:
            path = write(tmp, order.replace(" ", "-"), manifest, order)
            rc, out, err = run(path, "validate")
            msg = re.sub(r"^orchestrate: .*?:\d+:\d+: ", "", err.strip())
            ok(rc == 2 and msg == want, "%s, %s: %s" % (name, order, want),
               "exit %d: %s" % (rc, err))
print("1..%d" % len(results))
sys.exit(0 if all(results) else 1)
