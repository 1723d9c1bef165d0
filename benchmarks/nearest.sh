#!/usr/bin/env bash
# Issue #5 (service stations): the nearest-station benchmark and the finder API load test, in one go.
#
#   bash benchmarks/nearest.sh            # from the checkout; as root it installs PostGIS and wrk from Debian
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres) or XINYE_BENCH_DSN; both scripts create their own
# xinye_bench_* databases and drop them. Output goes to the terminal and var/bench/*.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
mkdir -p var/bench

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    major=$(psql "${XINYE_BENCH_DSN:-postgresql://postgres@127.0.0.1:5432/postgres}" -Atc 'SHOW server_version_num' \
        2>/dev/null | cut -c1-2 || true)
    pkgs=(wrk)
    [ -n "$major" ] && pkgs+=("postgresql-$major-postgis-3")
    missing=()
    for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if [ ${#missing[@]} -gt 0 ]; then
        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r benchmarks/requirements.txt

cd benchmarks
"../$VENV/bin/python" nearest_bench.py --stations 200000 --queries 1000000 --seed 1 --pg-repeat 2 \
    --pg-variants geometry geography utm | tee ../var/bench/nearest.txt
"../$VENV/bin/python" finder_load.py --duration 60 | tee ../var/bench/finder_load.txt
