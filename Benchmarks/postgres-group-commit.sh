#!/usr/bin/env bash
# Group commit on PostgreSQL against pgbench's one-INSERT transactions, interleaved on one cluster:
# for each client count, ROUNDS rounds of (pgbench, swift-cqrs with group commit, swift-cqrs with one
# statement per commit), 5 s each; prints the median of each as a markdown table row.
#   [CLIENTS="1 16"] Benchmarks/postgres-group-commit.sh [ROUNDS]   (uses CQRS_POSTGRES_URL, else starts scripts/postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
if [[ -z "${CQRS_POSTGRES_URL:-}" ]]; then eval "$(scripts/postgres start)"; fi
url="$CQRS_POSTGRES_URL"
swift build -c release --product cqrs-bench >/dev/null
psql "$url" -qX -c "DROP SCHEMA IF EXISTS bench_swift CASCADE; DROP SCHEMA IF EXISTS bench_pgbench CASCADE;" >/dev/null
.build/release/cqrs-bench postgres-row "$url" 1 alone >/dev/null   # creates the schema
psql "$url" -qX -c "CREATE SCHEMA bench_pgbench; CREATE TABLE bench_pgbench.events (LIKE bench_swift.events INCLUDING ALL);" >/dev/null
median() { tr ' ' '\n' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo "| clients | pgbench one-INSERT tx/s | group commit, commands/s | ratio | one statement per commit, commands/s | ratio |"
echo "| --- | --- | --- | --- | --- | --- |"
for clients in ${CLIENTS:-1 16 64 256}; do
    pg=() grouped=() alone=()
    for _ in $(seq "$rounds"); do
        tps=$(pgbench "$url" -n -M prepared -f Benchmarks/pgbench-events.sql -c "$clients" -j "$((clients > 1 ? 2 : 1))" -T 5 2>/dev/null \
            | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
        pg+=("${tps%.*}")
        grouped+=("$(.build/release/cqrs-bench postgres-row "$url" "$clients" 4 2>/dev/null | tail -1)")
        alone+=("$(.build/release/cqrs-bench postgres-row "$url" "$clients" alone 2>/dev/null | tail -1)")
    done
    p=$(echo "${pg[*]}" | median) g=$(echo "${grouped[*]}" | median) a=$(echo "${alone[*]}" | median)
    echo "| $clients | $p | $g | $(awk "BEGIN { printf \"%.0f %%\", 100 * $g / $p }") | $a | $(awk "BEGIN { printf \"%.0f %%\", 100 * $a / $p }") |"
done
