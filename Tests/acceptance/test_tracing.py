"""Traces over OTLP/HTTP (swift-otel): with `--otlp-endpoint` the servers export a span per HTTP
request (continuing the caller's W3C `traceparent`), per catalog operation, per command and per
store commit, to a real OTLP/HTTP receiver (JSON encoding)."""
import base64
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time

import anyio
import httpx2 as httpx
import pytest
from mcp import Client, StdioServerParameters

from conftest import BINARY, free_port

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


class Collector:
    """An OTLP/HTTP receiver: stores every span posted to /v1/traces."""

    def __init__(self):
        self.spans = []
        self.lock = threading.Lock()
        collector = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/v1/traces":
                    collector.receive(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def receive(self, document):
        for resource in document.get("resourceSpans", []):
            service = {a["key"]: a["value"] for a in resource.get("resource", {}).get("attributes", [])}
            for scope in resource.get("scopeSpans", []):
                for span in scope.get("spans", []):
                    span["service"] = service.get("service.name", {}).get("stringValue")
                    span["attrs"] = {a["key"]: next(iter(a["value"].values()), None) for a in span.get("attributes", [])}
                    for key in ("traceId", "spanId", "parentSpanId"):
                        span[key] = hex_id(span.get(key, ""))
                    with self.lock:
                        self.spans.append(span)

    def named(self, name):
        with self.lock:
            return [span for span in self.spans if span["name"] == name]

    def wait_for(self, name, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if spans := self.named(name):
                return spans
            time.sleep(0.05)
        with self.lock:
            pytest.fail(f"no span {name!r} among {[span['name'] for span in self.spans]}")

    def close(self):
        self.server.shutdown()


def hex_id(value):
    """OTLP/JSON ids are hex; a protobuf-JSON encoder may send base64 instead."""
    if not value or all(c in "0123456789abcdefABCDEF" for c in value) and len(value) in (16, 32):
        return value.lower()
    return base64.b64decode(value).hex()


@pytest.fixture
def collector():
    collector = Collector()
    yield collector
    collector.close()


ENV = {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json", "OTEL_BSP_SCHEDULE_DELAY": "100"}


def test_a_rest_command_is_one_trace_from_the_request_to_the_commit(collector, tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [BINARY, "serve", "--store", f"sqlite:{tmp_path / 'traced.sqlite'}", "--port", str(port),
         "--otlp-endpoint", collector.endpoint],
        stdout=subprocess.DEVNULL, stderr=sys.stderr, env={**os.environ, **ENV})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.time() < deadline and process.poll() is None, "the server did not start"
            time.sleep(0.05)
        with httpx.Client(base_url=base, timeout=30) as client:
            account = client.post("/accounts/commands/open", json={"owner": "Ada"}).json()["id"]
            traceparent = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
            response = client.post(f"/accounts/{account}/commands/deposit", json={"amount": 5},
                                   headers={"traceparent": traceparent})
            assert response.status_code == 200, response.text
            refused = client.post(f"/accounts/{account}/commands/withdraw", json={"amount": 500})
            assert refused.status_code == 400 and refused.json()["code"] == "ACCOUNT_INSUFFICIENT_FUNDS"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    # The exporter flushes on shutdown: everything is there once the process has exited.
    operation = next(s for s in collector.wait_for("account_deposit") if s["traceId"] == CALLER_TRACE)
    request = next(s for s in collector.spans if s["spanId"] == operation["parentSpanId"])
    assert request["parentSpanId"] == CALLER_SPAN and request["traceId"] == CALLER_TRACE
    assert request["kind"] in (2, "SPAN_KIND_SERVER") and request["service"] == "bank"
    update = next(s for s in collector.named("update account") if s["parentSpanId"] == operation["spanId"])
    assert update["attrs"]["cqrs.aggregate.id"] == account and update["traceId"] == CALLER_TRACE
    commit = next(s for s in collector.named("commit account") if s["parentSpanId"] == update["spanId"])
    assert commit["attrs"]["cqrs.store"] == "SQLiteEventStore"
    assert str(commit["attrs"]["cqrs.events"]) == "1"
    # The refused withdrawal: the domain code, no error status (a refusal is not a fault), no commit.
    failed = collector.wait_for("update account")
    withdraw = next(s for s in failed if s["attrs"].get("cqrs.error.code") == "ACCOUNT_INSUFFICIENT_FUNDS")
    assert withdraw.get("status", {}).get("code") not in (2, "STATUS_CODE_ERROR")
    assert not [s for s in collector.named("commit account") if s["parentSpanId"] == withdraw["spanId"]]


@pytest.mark.anyio
async def test_the_stdio_server_exports_its_tool_calls_and_keeps_stdout_clean(collector, tmp_path):
    parameters = StdioServerParameters(
        command=BINARY, args=["mcp", "--store", f"sqlite:{tmp_path / 'stdio.sqlite'}", "--otlp-endpoint", collector.endpoint],
        env={**os.environ, **ENV})
    with anyio.fail_after(60):
        async with Client(parameters, mode="legacy") as client:
            result = await client.call_tool("account_open", {"owner": "Grace"})
            assert not result.is_error, result
    span = collector.wait_for("account_open")[0]
    assert span["parentSpanId"] == "" and span["service"] == "bank"
    create = collector.wait_for("create account")[0]
    assert create["parentSpanId"] == span["spanId"] and create["traceId"] == span["traceId"]

