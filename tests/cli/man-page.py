#!/usr/bin/env python3
"""man-page.py ORCHESTRATE SOURCE_ROOT BUILD_ROOT: the man page,
docs/orchestrate.1, against the binary, in both directions, as TAP.

- every command `orchestrate --help` lists has a .TP entry under COMMANDS,
  and every entry is such a command;
- every option `orchestrate CMD --help` shows is in CMD's entry, both in
  its synopsis (the .TP tag) and as a nested .TP of its own, and every
  option of the entry is in the usage; the same for the global options of
  `orchestrate --help` and the GLOBAL OPTIONS section;
- every long option of a command's getopt table (src/cmd_CMD.c, and
  src/main.c for the global ones) is in its --help, so an option cannot
  be added to the code alone either;
- every exit status of include/error.h and every ORCHESTRATE_* and
  DOCKER_* variable the sources read is in the page;
- the version in .TH is the binary's; the page renders without warnings;
  `meson install` puts it in share/man/man1.

`--help` itself, which every command takes, is left out of the per-command
comparisons. Each failure names what is missing and where to add it."""
import json
import os
import re
import shutil
import subprocess
import sys

exe, root, build = (os.path.abspath(a) for a in sys.argv[1:4])
PAGE = os.path.join(root, "docs", "orchestrate.1")
OPT = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")

results = []


def check(name, fn):
    try:
        fn()
        results.append((True, name, ""))
    except AssertionError as e:
        results.append((False, name, str(e)))


def expect(cond, msg):
    assert cond, msg


def skip(name, why):
    results.append((True, name, "SKIP " + why))


def run(*args):
    env = dict(os.environ)
    for v in ("ORCHESTRATE_FILE", "ORCHESTRATE_PROJECT"):
        env.pop(v, None)
    # --help must need neither a manifest nor an engine: run it where
    # there is no manifest and no engine answers
    env["DOCKER_HOST"] = "unix:///nonexistent/orchestrate-man-page.sock"
    p = subprocess.run([exe] + list(args), capture_output=True, text=True,
                       env=env, timeout=30, cwd="/")
    return p.returncode, p.stdout, p.stderr


def roff_args(rest):
    """The arguments of a macro line: words, or "quoted" strings."""
    return [a[1:-1] if a.startswith('"') else a
            for a in re.findall(r'"[^"]*"|\S+', rest)]


def roff_text(line):
    """A line of the page as plain text: font macros' arguments joined as
    roff joins them, font escapes dropped, \\- as -."""
    m = re.match(r"\.(B|I|BR|RB|BI|IB|IR|RI)\s+(.*)", line)
    if m:
        args = roff_args(m.group(2))
        line = (" ".join(args) if m.group(1) in ("B", "I")
                else "".join(args))
    elif line.startswith("."):
        return ""
    line = re.sub(r"\\f[BIRP]", "", line)
    line = line.replace("\\-", "-").replace("\\~", " ").replace("\\c", "")
    return re.sub(r"\\\([a-z]{2}", "", line)


def options(text):
    return set(OPT.findall(text))


def parse_page():
    """{section: [lines]}, and under COMMANDS and GLOBAL OPTIONS the .TP
    entries: [(tag, [nested tags], [lines])] at .RS depth 0."""
    sections, cur = {}, None
    for line in open(PAGE).read().split("\n"):
        if line.startswith('.\\"'):
            continue
        m = re.match(r"\.SH\s+(.*)", line)
        if m:
            cur = roff_args(m.group(1))
            cur = " ".join(cur)
            sections[cur] = []
            continue
        if cur is not None:
            sections[cur].append(line)
    return sections


def entries(lines):
    out, depth, want_tag, nested_tag = [], 0, False, False
    for line in lines:
        if want_tag:
            out.append([roff_text(line), [], []])
            want_tag = False
            continue
        if nested_tag:
            out[-1][1].append(roff_text(line))
            nested_tag = False
            continue
        if line.startswith(".RS"):
            depth += 1
        elif line.startswith(".RE"):
            depth -= 1
        elif line.startswith(".TP"):
            if depth == 0:
                want_tag = True
            else:
                nested_tag = bool(out)
        elif out:
            out[-1][2].append(line)
    return out


def getopt_table(path):
    """Long option names of the getopt_long tables in a source file."""
    src = open(path).read()
    names = set()
    for table in re.findall(r"struct option \w+\[\] = \{(.*?)\};", src, re.S):
        names.update(re.findall(r'\{\s*"([\w-]+)"', table))
    return names


def missing(what, got, where):
    them = "it" if len(got) == 1 else "them"
    return f"{', '.join(sorted(got))} {what}: add {them} to {where}"


sections = parse_page()
for s in ("NAME", "SYNOPSIS", "DESCRIPTION", "GLOBAL OPTIONS", "COMMANDS",
          "EXIT STATUS", "ENVIRONMENT", "FILES", "SEE ALSO"):
    check(f"section {s}", lambda s=s: expect(
        s in sections, f"no .SH {s} in docs/orchestrate.1"))

rc, help_out, help_err = run("--help")
check("orchestrate --help exits 0",
      lambda: expect(rc == 0, f"exit {rc}: {help_err.strip()}"))

# the commands: `orchestrate --help` lists them after "commands:"
block = help_out.split("\ncommands:\n", 1)[1] if "\ncommands:\n" in help_out else ""
commands = []
for line in block.split("\n"):
    m = re.match(r"  ([a-z][\w-]*)\s", line)
    if m:
        commands.append(m.group(1))
    elif line.strip() == "":
        break
man_cmds = {}
for tag, nested, body in entries(sections.get("COMMANDS", [])):
    name = tag.split()[0] if tag.split() else tag
    man_cmds[name] = (tag, nested, body)


def t_commands_listed():
    assert commands, "no commands found in `orchestrate --help`"
    lost = set(commands) - set(man_cmds)
    extra = set(man_cmds) - set(commands)
    msgs = []
    if lost:
        msgs.append(missing("in `orchestrate --help` but without a .TP "
                            "entry in the man page", lost,
                            "COMMANDS in docs/orchestrate.1"))
    if extra:
        msgs.append(f"{', '.join(sorted(extra))} in the man page's COMMANDS "
                    "but not a command of `orchestrate --help`")
    assert not msgs, "; ".join(msgs)


check("COMMANDS lists exactly the commands of --help", t_commands_listed)


def command_checks(cmd):
    rc, out, err = run(cmd, "--help")

    def t_help():
        assert rc == 0 and out.startswith("usage: orchestrate " + cmd), \
            f"`orchestrate {cmd} --help`: exit {rc}, {(out + err).strip()!r}"
    check(f"{cmd}: --help prints its usage without a manifest or engine",
          t_help)
    usage = options(out) - {"--help", "-h"}
    if cmd not in man_cmds:
        return
    tag, nested, body = man_cmds[cmd]
    synopsis = options(tag)
    listed = set()
    for n in nested:
        listed |= options(n)

    def t_synopsis():
        msgs = []
        if usage - synopsis:
            msgs.append(missing(f"in `orchestrate {cmd} --help` but not in "
                                "the synopsis of its man entry",
                                usage - synopsis,
                                f"the .TP tag of '{cmd}'"))
        if synopsis - usage:
            msgs.append(f"{', '.join(sorted(synopsis - usage))} in the "
                        f"man page's synopsis of '{cmd}' but not in "
                        f"`orchestrate {cmd} --help`")
        assert not msgs, "; ".join(msgs)
    check(f"{cmd}: man synopsis and --help name the same options",
          t_synopsis)

    def t_described():
        msgs = []
        if usage - listed:
            msgs.append(missing(f"of `orchestrate {cmd} --help` not "
                                "described in its man entry", usage - listed,
                                f"a nested .TP (.RS ... .RE) under '{cmd}'"))
        if listed - usage:
            msgs.append(f"{', '.join(sorted(listed - usage))} described "
                        f"under '{cmd}' in the man page but not in "
                        f"`orchestrate {cmd} --help`")
        assert not msgs, "; ".join(msgs)
    check(f"{cmd}: man entry describes exactly the options of --help",
          t_described)

    src = os.path.join(root, "src", f"cmd_{cmd}.c")

    def t_source():
        assert os.path.exists(src), f"no src/cmd_{cmd}.c for command '{cmd}'"
        table = {"--" + n for n in getopt_table(src)} - {"--help"}
        lost = table - usage
        assert not lost, missing(f"in the getopt table of src/cmd_{cmd}.c "
                                 f"but not in `orchestrate {cmd} --help`",
                                 lost, "its usage string")
    check(f"{cmd}: every option of src/cmd_{cmd}.c is in its --help",
          t_source)


for c in commands:
    command_checks(c)

# the global options: the "options:" block of `orchestrate --help`
gblock = help_out.split("\noptions:\n", 1)[1].split("\n\n", 1)[0] \
    if "\noptions:\n" in help_out else ""
global_help = options(gblock)
global_man = set()
for tag, nested, body in entries(sections.get("GLOBAL OPTIONS", [])):
    global_man |= options(tag)


def t_global():
    assert global_help, "no options: block in `orchestrate --help`"
    msgs = []
    if global_help - global_man:
        msgs.append(missing("in `orchestrate --help` but without a .TP in "
                            "the man page", global_help - global_man,
                            "GLOBAL OPTIONS in docs/orchestrate.1"))
    if global_man - global_help:
        msgs.append(f"{', '.join(sorted(global_man - global_help))} in the "
                    "man page's GLOBAL OPTIONS but not in "
                    "`orchestrate --help`")
    assert not msgs, "; ".join(msgs)


check("GLOBAL OPTIONS and --help name the same options", t_global)


def t_global_source():
    table = {"--" + n for n in getopt_table(os.path.join(root, "src",
                                                         "main.c"))}
    lost = table - global_help
    assert not lost, missing("in src/main.c's getopt table but not in "
                             "`orchestrate --help`", lost, "print_help()")


check("every global option of src/main.c is in --help", t_global_source)


def t_exit():
    src = open(os.path.join(root, "include", "error.h")).read()
    enum = re.search(r"enum orch_exit \{(.*?)\};", src, re.S).group(1)
    codes = set(re.findall(r"=\s*(\d+)", enum))
    man = set()
    for tag, nested, body in entries(sections.get("EXIT STATUS", [])):
        man |= set(re.findall(r"\d+", tag))
    lost = codes - man
    assert not lost, missing("in include/error.h's enum orch_exit but not "
                             "in the man page", lost, "EXIT STATUS")


check("EXIT STATUS has every status of include/error.h", t_exit)


def t_env():
    names = set()
    for d in ("src", "include"):
        for dirpath, _, files in os.walk(os.path.join(root, d)):
            for f in files:
                if f.endswith((".c", ".h")):
                    text = open(os.path.join(dirpath, f)).read()
                    names |= set(re.findall(
                        r'"((?:ORCHESTRATE|DOCKER)_[A-Z_]+)"', text))
    man = "\n".join(roff_text(l) for l in sections.get("ENVIRONMENT", []))
    lost = {n for n in names if not re.search(r"\b%s\b" % n, man)}
    assert names, "no ORCHESTRATE_* or DOCKER_* variable found in src/"
    assert not lost, missing("read by the sources but not in the man page",
                             lost, "ENVIRONMENT")


check("ENVIRONMENT has every variable the sources read", t_env)


def t_version():
    rc, out, err = run("--version")
    got = out.split()[-1] if out.split() else ""
    th = [l for l in open(PAGE) if l.startswith(".TH")]
    assert th, "no .TH line"
    args = roff_args(th[0][3:])
    want = f"orchestrate {got}"
    assert len(args) >= 4 and args[3] == want, \
        f".TH says {args[3] if len(args) > 3 else None!r}, " \
        f"`orchestrate --version` {want!r}: update .TH in docs/orchestrate.1"


check(".TH carries the version of `orchestrate --version`", t_version)

groff = shutil.which("groff")
if groff:
    def t_render():
        p = subprocess.run([groff, "-man", "-ww", "-z", "-Tutf8", PAGE],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0 and not p.stderr.strip(), \
            f"groff: exit {p.returncode}: {p.stderr.strip()}"
    check("the page renders without warnings (groff -man -ww)", t_render)
else:
    skip("the page renders without warnings (groff -man -ww)",
         "groff not installed (scripts/setup installs groff-base)")


def t_installed():
    path = os.path.join(build, "meson-info", "intro-installed.json")
    installed = json.load(open(path))
    src = os.path.realpath(PAGE)
    dest = [d for s, d in installed.items() if os.path.realpath(s) == src]
    assert dest, "docs/orchestrate.1 is not installed: install_man() " \
        "in meson.build"
    assert dest[0].endswith("/share/man/man1/orchestrate.1"), \
        f"installed as {dest[0]}, not share/man/man1/orchestrate.1"


check("meson install puts it in share/man/man1", t_installed)

for i, (ok, name, msg) in enumerate(results, 1):
    if msg.startswith("SKIP "):
        print(f"ok {i} - {name} # {msg}")
        continue
    print(("ok" if ok else "not ok"), i, "-", name)
    if not ok:
        for line in msg.split("\n"):
            print("#", line)
print("1..%d" % len(results))
sys.exit(0 if all(ok for ok, _, _ in results) else 1)
