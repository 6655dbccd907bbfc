#!/usr/bin/env bash
# Commands/s and latency of deposits over REST and over MCP-over-HTTP, both driven by wrk against
# one release `bank serve`, on the in-memory and SQLite stores, with 1 and 16 connections.
#   Benchmarks/rest-bench.sh [seconds per row, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_ROW=${1:-10}
BANK=${BANK:-.build/release/bank}
[ -x "$BANK" ] || swift build -c release --product bank
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)"; exit 1; }
PORT=18990
BASE=http://127.0.0.1:$PORT

for store in memory: "sqlite:$(mktemp -d)/bench.sqlite"; do
    "$BANK" serve --store "$store" --port $PORT --log-level error &
    SERVER=$!
    trap 'kill $SERVER 2>/dev/null || true' EXIT
    for _ in $(seq 50); do curl -sf $BASE/health >/dev/null && break; sleep 0.1; done
    IDS=""
    for n in $(seq 16); do
        id=$(curl -sf -X POST $BASE/accounts/commands/open -H 'content-type: application/json' -d "{\"owner\":\"o$n\"}" |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
        IDS="$IDS${IDS:+,}$id"
    done
    SESSION=$(curl -si -X POST $BASE/mcp -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
        -d '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"wrk","version":"1"}}}' |
        tr -d '\r' | awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}')
    curl -sf -X POST $BASE/mcp -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
        -H "Mcp-Session-Id: $SESSION" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' >/dev/null
    export IDS SESSION
    for front in rest mcp; do
        for connections in 1 16; do
            echo "== $store $front $connections connection(s)"
            wrk -t1 -c$connections -d"${SECONDS_PER_ROW}s" --latency -s "Benchmarks/wrk/$front-deposit.lua" $BASE |
                grep -E "Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors"
        done
    done
    kill $SERVER
    wait $SERVER 2>/dev/null || true
done
