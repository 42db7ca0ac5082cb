"""The migration job: brings the database's schema up to date, then exits.

Applies migrations/NNNN_name.sql in order, each in its own transaction,
and records it in schema_migrations (version, name, checksum, applied_at);
an applied migration is skipped, one whose file changed since is an error.
So running the job again is harmless. With SHOP_VARIANT set to something
other than "good", the files of migrations/$SHOP_VARIANT/ come after the
others (the broken variant: migrations/broken/).

Exit 0 when the schema is up to date, 1 on a failed migration, 2 on a bad
variant.
"""

import hashlib
import os
import re
import sys

from shop import db

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIGRATIONS = os.path.join(HERE, "migrations")
FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def migration_files(variant):
    dirs = [MIGRATIONS]
    if variant and variant != "good":
        d = os.path.join(MIGRATIONS, variant)
        if not os.path.isdir(d):
            known = sorted(n for n in os.listdir(MIGRATIONS)
                           if os.path.isdir(os.path.join(MIGRATIONS, n)))
            print("migrate: unknown SHOP_VARIANT '%s' (known: good, %s)"
                  % (variant, ", ".join(known)), file=sys.stderr)
            sys.exit(2)
        dirs.append(d)
    files = []
    for d in dirs:
        for name in sorted(os.listdir(d)):
            m = FILE.match(name)
            if m:
                files.append((int(m.group(1)), m.group(2), os.path.join(d, name)))
    return files


def main():
    variant = os.environ.get("SHOP_VARIANT", "good")
    files = migration_files(variant)
    conn = db.connect()
    cur = conn.cursor()
    # one migrator at a time, should two jobs ever run at once
    cur.execute("SELECT pg_advisory_lock(4242)")
    cur.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
                       version    integer     PRIMARY KEY,
                       name       text        NOT NULL,
                       checksum   text        NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())""")
    conn.commit()
    cur.execute("SELECT version, name, checksum FROM schema_migrations")
    applied = {v: (n, c) for v, n, c in cur.fetchall()}
    done = 0
    for version, name, path in files:
        with open(path, "rb") as f:
            sql = f.read()
        checksum = hashlib.sha256(sql).hexdigest()
        if version in applied:
            if applied[version][1] != checksum:
                print("migrate: %04d_%s was applied with another content "
                      "(checksum %s, now %s)" % (version, name,
                                                 applied[version][1][:12],
                                                 checksum[:12]),
                      file=sys.stderr)
                return 1
            continue
        try:
            cur.execute(sql.decode())
            cur.execute("INSERT INTO schema_migrations (version, name, checksum)"
                        " VALUES (%s, %s, %s)", (version, name, checksum))
            conn.commit()
        except Exception as e:
            conn.rollback()
            print("migrate: %04d_%s failed: %s" % (version, name, e),
                  file=sys.stderr)
            return 1
        print("migrate: applied %04d_%s" % (version, name), flush=True)
        done += 1
    print("migrate: schema up to date (%d applied now, %d before, variant %s)"
          % (done, len(applied), variant), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
