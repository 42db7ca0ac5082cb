"""A health check for images without curl: `python3 -m shop.probe URL`
exits 0 when URL answers 200 within 2 seconds, 1 otherwise. The
docker-compose file uses it; orchestrate probes the same URLs itself
(`ready: http`)."""

import sys
import urllib.request

try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception as e:
    print(e, file=sys.stderr)
    sys.exit(1)
