#!/usr/bin/env python3
"""schema-docs.py SOURCE_ROOT: every key of the schema table (src/schema.c)
is documented in the manifest reference, docs/manifest.md, inside
`backticks`, so the docs cannot fall behind the table (the house style:
validation, suggestions and docs all come from the one table)."""
import re
import sys

root = sys.argv[1]
table = open(root + "/src/schema.c").read()
doc = open(root + "/docs/manifest.md").read()
words = set()
for span in re.findall(r"`([^`]*)`", doc):
    words.update(re.findall(r"[a-z_][a-z_0-9]*", span))
keys = sorted(set(re.findall(r'K\(SEC_[A-Z_]+,\s*"([a-z_]+)"', table)))
missing = [k for k in keys if k not in words]
for i, k in enumerate(keys, 1):
    if k in missing:
        print("not ok", i, "-", k, "(not in docs/manifest.md)")
    else:
        print("ok", i, "-", k)
print("1..%d" % len(keys))
sys.exit(1 if missing else 0)
