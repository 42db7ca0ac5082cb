#!/usr/bin/env python3
"""schema-docs.py SOURCE_ROOT: every key of the schema table (src/schema.c)
is documented in README.md's manifest reference, inside `backticks`, so
the docs cannot fall behind the table (STYLE.md: docs come from it)."""
import re
import sys

root = sys.argv[1]
table = open(root + "/src/schema.c").read()
readme = open(root + "/README.md").read()
start = readme.index("## Manifest reference")
end = readme.index("\n## ", start + 1)
words = set()
for span in re.findall(r"`([^`]*)`", readme[start:end]):
    words.update(re.findall(r"[a-z_][a-z_0-9]*", span))
keys = sorted(set(re.findall(r'K\(SEC_[A-Z_]+,\s*"([a-z_]+)"', table)))
missing = [k for k in keys if k not in words]
for i, k in enumerate(keys, 1):
    print(("not ok" if k in missing else "ok"), i, "-", k)
print("1..%d" % len(keys))
sys.exit(1 if missing else 0)
