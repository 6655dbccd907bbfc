#!/usr/bin/env bash
# PostgreSQL benchmark: swift-cqrs (release) vs Python eventsourcing 9.5.6 vs pgbench, same cluster.
#   Benchmarks/postgres-bench.sh [scale]     (uses CQRS_POSTGRES_URL, else starts scripts/postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
scale="${1:-1}"
if [[ -z "${CQRS_POSTGRES_URL:-}" ]]; then eval "$(scripts/postgres start)"; fi
url="$CQRS_POSTGRES_URL"
psql "$url" -qX -c "DROP SCHEMA IF EXISTS bench_swift CASCADE; DROP SCHEMA IF EXISTS bench_python CASCADE; DROP SCHEMA IF EXISTS bench_pgbench CASCADE; CREATE SCHEMA bench_python;" >/dev/null
echo "server: $(psql "$url" -tAXc "SELECT version()" | cut -d' ' -f1-2), fsync=$(psql "$url" -tAXc 'SHOW fsync'), synchronous_commit=$(psql "$url" -tAXc 'SHOW synchronous_commit'), cores: $(nproc)"

swift build -c release --product cqrs-bench >/dev/null
.build/release/cqrs-bench postgres "$url" "$scale"

if [[ ! -x .venv-bench/bin/python ]]; then python3 -m venv .venv-bench; fi
.venv-bench/bin/pip install -q "eventsourcing[postgres]==9.5.6"
.venv-bench/bin/python Benchmarks/python/eventsourcing_bench.py "$url" "$scale"

psql "$url" -qX -c "CREATE SCHEMA bench_pgbench; CREATE TABLE bench_pgbench.events (LIKE bench_swift.events INCLUDING ALL);" >/dev/null
for clients in 1 16 64 256; do
    tps=$(pgbench "$url" -n -M prepared -f Benchmarks/pgbench-events.sql -c "$clients" -j "$((clients > 1 ? 2 : 1))" -T 10 2>/dev/null \
        | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    echo "pgbench $clients client(s): ${tps%.*} transactions/s"
done
