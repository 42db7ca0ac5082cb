#!/usr/bin/env python3
"""plan.py ORCHESTRATE SOURCE_ROOT AREA: the plan, graph and validate
commands against the example environments, as TAP. AREA is plan, graph
or validate. The plan --json document is checked field by field."""
import json
import os
import subprocess
import sys

exe, root, area = sys.argv[1], sys.argv[2], sys.argv[3]
ENV = os.path.join(root, "environments")
DIAMOND = os.path.join(ENV, "diamond", "orchestrate.yaml")
CHAIN = os.path.join(ENV, "chain", "orchestrate.yaml")
FANOUT = os.path.join(ENV, "fanout", "orchestrate.yaml")
COMPOSE = os.path.join(root, "tests", "cli", "fixtures", "compose-only.yaml")

results = []


def run(manifest, *args):
    env = dict(os.environ)
    env.pop("ORCHESTRATE_FILE", None)
    env.pop("ORCHESTRATE_PROJECT", None)
    p = subprocess.run([exe, "-f", manifest] + list(args), capture_output=True,
                       text=True, env=env, timeout=30)
    return p.returncode, p.stdout, p.stderr


def check(name, fn):
    try:
        fn()
        results.append((True, name, ""))
    except AssertionError as e:
        results.append((False, name, str(e)))


def eq(got, want, what):
    assert got == want, f"{what}: got {got!r}, want {want!r}"


def plan(manifest, *args):
    rc, out, err = run(manifest, "plan", "--json", *args)
    eq(rc, 0, f"exit status ({err.strip()})")
    return json.loads(out)


def stage(p, i, real, stubs, absent, new_real, new_edges, suites, notes=()):
    st = p["stages"][i]
    eq(st["index"], i, f"stage {i} index")
    eq(st["real"], real, f"stage {i} real")
    eq(st["stubs"], stubs, f"stage {i} stubs")
    eq(st["absent"], absent, f"stage {i} absent")
    eq(st["new_real"], new_real, f"stage {i} new_real")
    eq(st["new_edges"], new_edges, f"stage {i} new_edges")
    eq(st["suites"], suites, f"stage {i} suites")
    eq(st["notes"], list(notes), f"stage {i} notes")
    eq([r["suite"] for r in st["runs"]], suites, f"stage {i} runs")
    assert isinstance(st["label"], str) and st["label"], "stage label"
    return st


ALL = ["db", "api", "worker", "web"]
EDGES = [["api", "db"], ["worker", "db"], ["web", "api"], ["web", "worker"]]


def t_top_level():
    p = plan(DIAMOND, "--strategy", "big-bang")
    eq(p["strategy"], "big-bang", "strategy")
    eq(p["middle"], None, "middle")
    eq(p["top_level"], 2, "top_level")
    eq(p["levels"], {"db": 0, "api": 1, "worker": 1, "web": 2}, "levels")
    eq([s["name"] for s in p["services"]], ALL, "services")
    eq(p["services"][0], {"name": "db", "level": 0, "external": False,
                          "has_stub": False, "depends_on": []}, "db")
    eq(p["services"][3]["depends_on"], ["api", "worker"], "web deps")
    eq(p["services"][1]["has_stub"], True, "api has_stub")
    eq([(s["name"], s["level"], s["targets"]) for s in p["suites"]],
       [("db-health", 0, ["db"]), ("api-db", 1, ["api"]),
        ("worker-db", 1, ["worker"]), ("web-e2e", 2, ["web"]),
        ("end-to-end", 2, ["db", "web"])], "suites")
    eq(p["notes"], [], "notes")


def t_default_strategy():
    # the manifest says bottom-up
    eq(plan(DIAMOND)["strategy"], "bottom-up", "strategy")


def t_big_bang():
    p = plan(DIAMOND, "--strategy", "big-bang")
    eq(len(p["stages"]), 1, "stages")
    st = stage(p, 0, ALL, [], [], ALL, EDGES,
               ["db-health", "api-db", "worker-db", "web-e2e",
                "end-to-end"])
    eq(st["stubs_started"], [], "stubs_started")
    r = st["runs"][4]
    eq(r["rerun"], False, "rerun")
    eq(r["previous_stage"], None, "previous_stage")
    eq(r["against_stubs"], False, "against_stubs")
    eq(r["services"], ALL, "run services")
    eq(r["edges"], EDGES, "run edges")
    eq(r["new_edges"], EDGES, "run new_edges")


def t_incremental():
    p = plan(DIAMOND, "--strategy", "incremental")
    eq(len(p["stages"]), 4, "stages")
    stage(p, 0, ["db"], [], ["api", "worker", "web"], ["db"], [],
          ["db-health"])
    stage(p, 1, ["db", "api"], [], ["worker", "web"], ["api"],
          [["api", "db"]], ["api-db"])
    stage(p, 2, ["db", "api", "worker"], [], ["web"], ["worker"],
          [["worker", "db"]], ["worker-db"])
    stage(p, 3, ALL, [], [], ["web"], [["web", "api"], ["web", "worker"]],
          ["web-e2e", "end-to-end"])
    eq(p["stages"][0]["label"], "add 'db'", "label")


def t_bottom_up():
    p = plan(DIAMOND, "--strategy", "bottom-up")
    eq(len(p["stages"]), 3, "stages")
    stage(p, 0, ["db"], [], ["api", "worker", "web"], ["db"], [],
          ["db-health"])
    stage(p, 1, ["db", "api", "worker"], [], ["web"], ["api", "worker"],
          [["api", "db"], ["worker", "db"]], ["api-db", "worker-db"])
    stage(p, 2, ALL, [], [], ["web"], [["web", "api"], ["web", "worker"]],
          ["web-e2e", "end-to-end"])
    for st in p["stages"]:
        for r in st["runs"]:
            eq(r["rerun"], False, "bottom-up runs each suite once")


def t_top_down():
    p = plan(DIAMOND, "--strategy", "top-down")
    # db has no stub: stage 1 brings it up real, so stage 2 adds nothing
    eq(len(p["stages"]), 2, "stages")
    st = stage(p, 0, ["web"], ["api", "worker"], ["db"], ["web"], [],
               ["web-e2e"])
    eq(st["stubs_started"], ["api", "worker"], "stubs_started")
    r = st["runs"][0]
    eq(r["against_stubs"], True, "against_stubs")
    eq(r["stubs"], ["api", "worker"], "run stubs")
    eq(r["edges"], [], "run edges")
    st = stage(p, 1, ALL, [], [], ["db", "api", "worker"], EDGES,
               ["db-health", "api-db", "worker-db", "web-e2e",
                "end-to-end"],
               ["'db' has no stub: comes up real"])
    eq(st["stubs_replaced"], ["api", "worker"], "stubs_replaced")
    r = st["runs"][3]
    eq(r["suite"], "web-e2e", "suite")
    eq(r["rerun"], True, "rerun")
    eq(r["previous_stage"], 0, "previous_stage")
    eq(r["new_edges"], EDGES, "run new_edges")


def t_sandwich():
    p = plan(DIAMOND, "--strategy", "sandwich")
    eq(p["middle"], 1, "middle")
    eq(len(p["stages"]), 2, "stages")
    stage(p, 0, ["db", "web"], ["api", "worker"], [], ["db", "web"], [],
          ["db-health", "web-e2e", "end-to-end"])
    st = stage(p, 1, ALL, [], [], ["api", "worker"], EDGES,
               ["api-db", "worker-db", "web-e2e", "end-to-end"])
    eq([r["rerun"] for r in st["runs"]], [False, False, True, True],
       "reruns")


def t_sandwich_middle():
    p = plan(DIAMOND, "--strategy", "sandwich", "--middle", "2")
    eq(p["middle"], 2, "middle")
    stage(p, 0, ["db", "api", "worker"], [], ["web"],
          ["db", "api", "worker"], [["api", "db"], ["worker", "db"]],
          ["db-health", "api-db", "worker-db"])
    p = plan(DIAMOND, "--strategy", "sandwich", "--middle", "0")
    eq(len(p["stages"]), 1, "stages with --middle 0")
    rc, out, err = run(DIAMOND, "plan", "--strategy", "sandwich",
                       "--middle", "3")
    eq(rc, 2, "exit status for --middle 3")
    assert "middle level 3 out of range" in err, err
    rc, out, err = run(DIAMOND, "plan", "--strategy", "bottom-up",
                       "--middle", "1")
    eq(rc, 2, "exit status for --middle with bottom-up")
    rc, out, err = run(DIAMOND, "plan", "--middle", "x")
    eq(rc, 2, "exit status for --middle x")


def t_chain_top_down():
    p = plan(CHAIN)
    eq(p["strategy"], "top-down", "strategy")
    eq(p["top_level"], 3, "top_level")
    # store has no stub: the last stage would change nothing
    eq(len(p["stages"]), 3, "stages")
    eq([st["suites"] for st in p["stages"]],
       [["gateway"], ["app", "gateway"], ["store", "cache", "app",
                                          "gateway"]], "suites")
    eq(p["stages"][2]["notes"], ["'store' has no stub: comes up real"],
       "notes")


def t_fanout():
    p = plan(FANOUT)
    eq(p["strategy"], "sandwich", "strategy")
    eq(p["middle"], 1, "middle")
    eq(p["services"][5]["external"], True, "payments external")
    stage(p, 0, ["users", "orders", "search", "mail"], [],
          ["gateway", "payments"], ["users", "orders", "search", "mail"],
          [], ["users", "orders"])
    stage(p, 1, ["gateway", "users", "orders", "search", "mail"],
          ["payments"], [], ["gateway"],
          [["gateway", x] for x in ["users", "orders", "search", "mail"]],
          ["gateway"])
    p = plan(FANOUT, "--strategy", "top-down")
    stage(p, 0, ["gateway", "mail"], ["users", "orders", "search",
                                      "payments"], [],
          ["gateway", "mail"], [["gateway", "mail"]], ["gateway"],
          ["'mail' has no stub: comes up real"])


def t_human():
    rc, out, err = run(DIAMOND, "plan", "--strategy", "top-down")
    eq(rc, 0, "exit status")
    for want in ["strategy top-down: 2 stages", "stage 1/2:",
                 "stubs:      api (new), worker (new)",
                 "new edges:  api -> db, worker -> db, web -> api, web -> worker",
                 "note:       'db' has no stub: comes up real",
                 "web-e2e (re-run after stage 1)"]:
        assert want in out, f"{want!r} not in:\n{out}"


def t_unknown_strategy():
    rc, out, err = run(DIAMOND, "plan", "--strategy", "sideways")
    eq(rc, 2, "exit status")
    assert "unknown strategy 'sideways'" in err, err
    assert "big-bang, incremental, bottom-up, top-down, sandwich" in err, err


def t_no_suites():
    p = plan(COMPOSE)
    eq(p["suites"], [], "suites")
    assert any("no suites" in n and "suites:" in n for n in p["notes"]), \
        p["notes"]
    eq(p["stages"][0]["suites"], [], "stage suites")
    rc, out, err = run(COMPOSE, "plan")
    eq(rc, 0, "exit status")
    assert "no suites: `orchestrate test` needs a suites: section" in out, out


def t_graph_text():
    rc, out, err = run(DIAMOND, "graph")
    eq(rc, 0, f"exit status ({err})")
    for want in ["level 0\n  db\n", "level 1\n  api [has stub]\n"
                 "    -> db (service_healthy)\n",
                 "  worker [has stub]\n    -> db (service_started)\n",
                 "level 2\n  web\n    -> api (service_healthy)\n"
                 "    -> worker (service_started)\n",
                 "  end-to-end -> db, web\n"]:
        assert want in out, f"{want!r} not in:\n{out}"
    rc, out, err = run(FANOUT, "graph", "--format", "text")
    assert "payments [external: stub only]" in out, out
    rc, out, err = run(COMPOSE, "graph")
    eq(rc, 0, "exit status")
    assert "no suites:" in out, out


def t_graph_dot():
    rc, out, err = run(DIAMOND, "graph", "--format", "dot")
    eq(rc, 0, f"exit status ({err})")
    assert out.startswith('digraph "diamond" {'), out
    assert '"web" -> "api" [label="healthy"];' in out, out
    assert '"worker" -> "db" [label="started"];' in out, out
    assert '"api" [label="api\\n(has stub)"];' in out, out
    assert out.rstrip().endswith("}"), out
    eq(out.count("{"), out.count("}"), "balanced braces")
    rc, out, err = run(FANOUT, "graph", "--format", "dot")
    assert '"payments" [label="payments\\n(external)", style=dashed];' \
        in out, out


def t_graph_mermaid():
    rc, out, err = run(DIAMOND, "graph", "--format", "mermaid")
    eq(rc, 0, f"exit status ({err})")
    assert out.startswith("flowchart TD\n"), out
    assert 's0["db"]' in out and 's1["api (has stub)"]' in out, out
    assert "s3 -->|healthy| s1" in out and "s3 -->|started| s2" in out, out
    eq(out.count("subgraph"), out.count("\tend\n"), "subgraphs closed")


def t_graph_bad_format():
    rc, out, err = run(DIAMOND, "graph", "--format", "svg")
    eq(rc, 2, "exit status")
    assert "unknown graph format 'svg'" in err, err


def t_validate():
    for m in (DIAMOND, CHAIN, FANOUT, COMPOSE):
        rc, out, err = run(m, "validate")
        eq((rc, out, err), (0, "", ""), f"validate {m}")
    for s in ("big-bang", "incremental", "bottom-up", "top-down",
              "sandwich"):
        rc, out, err = run(DIAMOND, "validate", "--strategy", s)
        eq((rc, out), (0, ""), f"validate --strategy {s} ({err})")
    rc, out, err = run(DIAMOND, "validate", "--strategy", "sideways")
    eq(rc, 2, "unknown strategy")
    assert "valid: big-bang" in err, err
    rc, out, err = run(DIAMOND, "validate", "--strategy", "sandwich",
                       "--middle", "2")
    eq(rc, 0, "valid --middle")
    rc, out, err = run(DIAMOND, "validate", "--strategy", "sandwich",
                       "--middle", "7")
    eq(rc, 2, "--middle out of range")
    assert "out of range" in err, err


TESTS = {
    "plan": [t_top_level, t_default_strategy, t_big_bang, t_incremental,
             t_bottom_up, t_top_down, t_sandwich, t_sandwich_middle,
             t_chain_top_down, t_fanout, t_human, t_unknown_strategy,
             t_no_suites],
    "graph": [t_graph_text, t_graph_dot, t_graph_mermaid,
              t_graph_bad_format],
    "validate": [t_validate],
}

for t in TESTS[area]:
    check(t.__name__[2:], t)
print(f"1..{len(results)}")
for i, (ok, name, msg) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    for line in msg.splitlines():
        print(f"# {line}")
sys.exit(0)
