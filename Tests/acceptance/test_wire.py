"""Raw JSON-RPC on the wire: stdio framing and HTTP status codes, without any client library."""
import json
import subprocess

import httpx2 as httpx
import pytest

from conftest import http_server


def stdio_exchange(binary, lines):
    process = subprocess.run(
        [binary, "mcp", "--store", "memory:"], input="".join(line + "\n" for line in lines),
        capture_output=True, text=True, timeout=60)
    assert process.returncode == 0, process.stderr
    return [json.loads(line) for line in process.stdout.splitlines() if line.strip()]


def test_stdio_malformed_lines_then_keeps_serving(bank_binary):
    initialize = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}})
    replies = stdio_exchange(bank_binary, [
        "{not json",
        initialize,
        json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        '{"jsonrpc":"2.0","id":2,"method":"ping","id":3}',
        "[" + json.dumps({"jsonrpc": "2.0", "id": 4, "method": "ping"}) + "]",
        json.dumps({"jsonrpc": "2.0", "id": 5, "method": "no/such/method"}),
        json.dumps({"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": {"name": "nope", "arguments": {}}}),
        json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": {"cursor": "garbage"}}),
        json.dumps({"jsonrpc": "2.0", "id": 8, "method": "ping"}),
    ])
    assert replies[0]["error"]["code"] == -32700 and replies[0]["id"] is None
    by_id = {r.get("id"): r for r in replies[1:]}
    assert by_id[1]["result"]["protocolVersion"] == "2025-11-25"
    assert by_id[None]["error"]["code"] in (-32700, -32600)   # duplicate key / batch: no id to answer
    assert by_id[5]["error"]["code"] == -32601
    assert by_id[6]["error"]["code"] == -32602
    assert by_id[7]["error"]["code"] == -32602
    assert by_id[8]["result"] == {}
    assert all("-32603" not in json.dumps(r) for r in replies)


def test_stdio_eof_commits_everything(bank_binary, tmp_path):
    store = tmp_path / "bank.sqlite"
    calls = [json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}),
        json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})]
    calls += [json.dumps({"jsonrpc": "2.0", "id": 10 + n, "method": "tools/call",
                          "params": {"name": "account_open", "arguments": {"owner": f"owner {n}"}}}) for n in range(20)]
    process = subprocess.run([bank_binary, "mcp", "--store", f"sqlite:{store}"],
                             input="".join(c + "\n" for c in calls), capture_output=True, text=True, timeout=60)
    assert process.returncode == 0, process.stderr
    replies = [json.loads(line) for line in process.stdout.splitlines()]
    acknowledged = [r["result"]["structuredContent"]["id"] for r in replies if r.get("id", 0) >= 10]
    assert len(acknowledged) == 20
    # Reopen the store in a fresh process: every acknowledged account is there.
    check = [calls[0], calls[1]] + [json.dumps({"jsonrpc": "2.0", "id": 100 + n, "method": "tools/call",
             "params": {"name": "account_get", "arguments": {"id": account}}}) for n, account in enumerate(acknowledged)]
    process = subprocess.run([bank_binary, "mcp", "--store", f"sqlite:{store}"],
                             input="".join(c + "\n" for c in check), capture_output=True, text=True, timeout=60)
    replies = [json.loads(line) for line in process.stdout.splitlines()]
    found = [r for r in replies if r.get("id", 0) >= 100 and not r["result"].get("isError")]
    assert len(found) == 20


def test_stdio_piped_script_is_served_after_initialize(bank_binary, tmp_path):
    """A scripted client pipes initialize and its calls without waiting for replies: every call is
    served in the initialized session (the server serves initialize before reading further)."""
    script = [json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}),
        json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})]
    script += [json.dumps({"jsonrpc": "2.0", "id": 10 + n, "method": "tools/call",
                           "params": {"name": "account_open", "arguments": {"owner": f"owner {n}"}}}) for n in range(10)]
    for run in range(30):
        process = subprocess.run([bank_binary, "mcp", "--store", "memory:"], input="".join(c + "\n" for c in script),
                                 capture_output=True, text=True, timeout=60)
        assert process.returncode == 0, process.stderr
        replies = [json.loads(line) for line in process.stdout.splitlines()]
        assert len(replies) == 11
        failed = [r for r in replies if "result" not in r or r["result"].get("isError")]
        assert not failed, f"run {run}: {failed}"


def post(base, body, headers=None, **kwargs):
    merged = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", **(headers or {})}
    return httpx.post(base + "/mcp", content=body if isinstance(body, (bytes, str)) else json.dumps(body),
                      headers=merged, **kwargs)


INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}


def test_http_status_codes(bank_binary):
    with http_server(bank_binary, "--token", "s3cret") as base:
        auth = {"Authorization": "Bearer s3cret"}
        assert post(base, INIT).status_code == 401
        assert "Bearer" in post(base, INIT).headers.get("WWW-Authenticate", "")
        assert post(base, INIT, {"Authorization": "Bearer wrong"}).status_code == 401
        assert post(base, INIT, {**auth, "Origin": "https://evil.example"}).status_code == 403
        assert post(base, INIT, {**auth, "Content-Type": "text/plain"}).status_code == 415
        assert post(base, b"x" * (8 << 20), auth).status_code == 413
        response = post(base, INIT, auth)
        assert response.status_code == 200
        session = response.headers["Mcp-Session-Id"]
        headers = {**auth, "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}
        assert post(base, {"jsonrpc": "2.0", "method": "notifications/initialized"}, headers).status_code == 202
        assert post(base, {"jsonrpc": "2.0", "id": 2, "method": "ping"}, {**headers, "MCP-Protocol-Version": "1999-01-01"}).status_code == 400
        assert post(base, {"jsonrpc": "2.0", "id": 3, "method": "ping"}, {**auth, "Mcp-Session-Id": "unknown"}).status_code == 404
        parse = post(base, "{broken", headers)
        assert parse.json()["error"]["code"] == -32700 and parse.json()["id"] is None
        ok = post(base, {"jsonrpc": "2.0", "id": 4, "method": "ping"}, headers)
        assert ok.status_code == 200 and ok.json() == {"jsonrpc": "2.0", "id": 4, "result": {}}
        assert httpx.delete(base + "/mcp", headers=headers).status_code in (200, 204)
        assert post(base, {"jsonrpc": "2.0", "id": 5, "method": "ping"}, headers).status_code == 404


def test_http_sse_when_only_event_stream_is_accepted(http_base):
    response = post(http_base, INIT, {"Accept": "text/event-stream"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:") and line[5:].strip()]
    assert json.loads(data[-1])["result"]["protocolVersion"] == "2025-11-25"
