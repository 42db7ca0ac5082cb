#!/bin/sh
# Smoke suite for environments/example: the page web serves, reached by
# the service's name on the run's network. Exit 0 is a pass.
set -eu
page=$(wget -q -O- "http://${WEB_HOST:-web}:80/")
case $page in
*shop*) echo "ok: web serves the shop page" ;;
*) echo "web answered without the shop page: $page" >&2; exit 1 ;;
esac
