"""Issue 9: `bank serve` and `bank mcp` probed as an attacker would, over real sockets with the mcp
client and raw HTTP."""
import json
import os
import socket
import subprocess
import time
import uuid

import httpx2 as httpx
import pytest
from mcp import Client, StdioServerParameters

from conftest import POSTGRES_URL, http_server

pytestmark = pytest.mark.anyio

HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def post(base, body, headers=None):
    return httpx.post(base + "/mcp", content=json.dumps(body), headers={**HEADERS, **(headers or {})}, timeout=30)


def initialize(base, headers=None):
    response = post(base, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}}}, headers)
    assert response.status_code == 200, response.text
    session = response.headers["Mcp-Session-Id"]
    return {**(headers or {}), "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}


def tool(base, headers, name, arguments, request_id=2):
    response = post(base, {"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
                           "params": {"name": name, "arguments": arguments}}, headers)
    assert response.status_code == 200, response.text
    return response.json()["result"]


def rpc(base, headers, method, params, request_id=3):
    return post(base, {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}, headers).json()


def test_session_ids_never_reach_the_audit_log(bank_binary):
    with http_server(bank_binary) as base:
        victim = initialize(base)
        account = tool(base, victim, "account_open", {"owner": "Victim"})["structuredContent"]["id"]
        tool(base, victim, "account_deposit", {"id": account, "amount": 5})
        thief = initialize(base)
        events = tool(base, thief, "account_events", {"id": account})["structuredContent"]["events"]
        assert len(events) == 2
        assert victim["Mcp-Session-Id"] not in json.dumps(events)
        assert all("mcpSessionId" not in event["metadata"] for event in events)


def test_abandoned_sessions_never_lock_newcomers_out(bank_binary):
    with http_server(bank_binary, "--max-sessions", "20") as base:
        first = initialize(base)
        for _ in range(60):
            initialize(base)
        # The oldest idle sessions made room; a newcomer is always served.
        fresh = initialize(base)
        assert rpc(base, fresh, "ping", {})["result"] == {}
        assert post(base, {"jsonrpc": "2.0", "id": 9, "method": "ping"}, first).status_code == 404


def test_idle_sessions_expire(bank_binary):
    with http_server(bank_binary, "--session-idle-timeout", "1") as base:
        session = initialize(base)
        assert rpc(base, session, "ping", {})["result"] == {}
        time.sleep(2.5)
        assert post(base, {"jsonrpc": "2.0", "id": 9, "method": "ping"}, session).status_code == 404


async def test_large_pages_stop_at_the_byte_budget(bank_binary):
    owner = "o" * (1 << 20)
    with http_server(bank_binary, "--page-bytes", str(3 << 20)) as base:
        async with Client(base + "/mcp", mode="legacy") as client:
            for n in range(8):
                opened = await client.call_tool("account_open", {"owner": f"{n}{owner}"})
                assert not opened.is_error
            seen, cursor, pages = [], None, 0
            while True:
                arguments = {"limit": 100, **({"cursor": cursor} if cursor else {})}
                page = await client.call_tool("account_list", arguments)
                assert not page.is_error
                items = page.structured_content["items"]
                assert 1 <= len(items) <= 3 and page.structured_content["total"] == 8
                # The text mirror summarises instead of doubling megabytes.
                assert len(page.content[0].text) < 1000 and "structuredContent" in page.content[0].text
                seen += [item["state"]["owner"] for item in items]
                pages += 1
                cursor = page.structured_content.get("nextCursor")
                if not cursor:
                    break
            assert pages >= 3 and sorted(seen) == sorted(f"{n}{owner}" for n in range(8))


async def test_a_large_reply_does_not_hold_up_stdio(bank_binary, tmp_path):
    # A ping sent after a multi-megabyte list is answered first.
    script = tmp_path / "requests.jsonl"
    lines = [{"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "p", "version": "1"}}}]
    owner = "s" * (1 << 20)
    lines += [{"jsonrpc": "2.0", "id": 10 + n, "method": "tools/call",
               "params": {"name": "account_open", "arguments": {"owner": f"{n}{owner}"}}} for n in range(4)]
    script.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    process = subprocess.Popen([bank_binary, "mcp", "--store", f"sqlite:{tmp_path / 'b.sqlite'}"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        process.stdin.write(script.read_bytes())
        process.stdin.flush()
        for _ in lines:
            json.loads(process.stdout.readline())
        list_request = {"jsonrpc": "2.0", "id": 100, "method": "tools/call",
                        "params": {"name": "account_list", "arguments": {"limit": 100}}}
        process.stdin.write((json.dumps(list_request) + "\n" + json.dumps({"jsonrpc": "2.0", "id": 101, "method": "ping"}) + "\n").encode())
        process.stdin.flush()
        order = [json.loads(process.stdout.readline())["id"] for _ in range(2)]
        assert order == [101, 100]
    finally:
        process.stdin.close()
        process.wait(timeout=30)


def test_idle_connections_are_closed(bank_binary):
    with http_server(bank_binary, "--connection-idle-timeout", "1") as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as idle:
            idle.settimeout(15)
            assert idle.recv(1) == b""  # closed by the server, not by the timeout of this test
        assert post(base, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "p", "version": "1"}}}).status_code == 200


def test_protocol_details(bank_binary):
    with http_server(bank_binary, "--token", "t0k") as base:
        auth = {"Authorization": "Bearer t0k"}
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "p", "version": "1"}}}
        unsupported = post(base, init, {**auth, "MCP-Protocol-Version": "1999-01-01"})
        assert unsupported.status_code == 400
        for response in [post(base, init), post(base, init, {**auth, "Origin": "https://evil.example"}),
                         httpx.post(base + "/mcp", content=b"x" * (8 << 20), headers={**HEADERS, **auth})]:
            assert response.status_code in (401, 403, 413)
            body = response.json()
            assert "id" in body and body["id"] is None and body["jsonrpc"] == "2.0"
        assert httpx.get(base + "/mcp").status_code == 401
        assert httpx.get(base + "/mcp", headers=auth).status_code == 405


def test_completion_counts_every_match(bank_binary):
    with http_server(bank_binary) as base:
        session = initialize(base)
        for n in range(150):
            tool(base, session, "account_open", {"owner": f"o{n}"}, request_id=100 + n)
        completion = rpc(base, session, "completion/complete", {
            "ref": {"type": "ref/resource", "uri": "cqrs://account/{id}"}, "argument": {"name": "id", "value": ""}})
        result = completion["result"]["completion"]
        assert len(result["values"]) == 100 and result["total"] == 150 and result["hasMore"] is True


def test_the_tool_allowlist_bounds_every_surface(bank_binary, tmp_path):
    # One SQLite file: what the full server can read, the restricted one must not.
    store = f"sqlite:{tmp_path / 'bank.sqlite'}"
    complete = {"ref": {"type": "ref/resource", "uri": "cqrs://account/{id}"}, "argument": {"name": "id", "value": ""}}
    with http_server(bank_binary, store=store) as full_base:
        full = initialize(full_base)
        account = tool(full_base, full, "account_open", {"owner": "Hidden"})["structuredContent"]["id"]
        assert "result" in rpc(full_base, full, "resources/read", {"uri": f"cqrs://account/{account}"})
        assert rpc(full_base, full, "completion/complete", complete)["result"]["completion"]["values"] == [account]
    with http_server(bank_binary, "--tools", "account_deposit", store=store) as base:
        session = initialize(base)
        tools = rpc(base, session, "tools/list", {})["result"]["tools"]
        assert [t["name"] for t in tools] == ["account_deposit"]
        assert rpc(base, session, "resources/templates/list", {})["result"]["resourceTemplates"] == []
        for uri in [f"cqrs://account/{account}", f"cqrs://account/{account}/events"]:
            assert rpc(base, session, "resources/read", {"uri": uri})["error"]["code"] == -32002
        assert rpc(base, session, "completion/complete", complete)["result"]["completion"]["values"] == []


def test_an_outage_is_reported_as_unavailability(bank_binary):
    if not POSTGRES_URL or not os.environ.get("CQRS_POSTGRES_CTL"):
        pytest.fail("CQRS_POSTGRES_URL and CQRS_POSTGRES_CTL must be set (the test command sets both)")
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}schema=out_{uuid.uuid4().hex[:12]}"
    with http_server(bank_binary, store=url) as base:
        session = initialize(base)
        account = tool(base, session, "account_open", {"owner": "Down"})["structuredContent"]["id"]
        subprocess.run([os.environ["CQRS_POSTGRES_CTL"], "stop"], check=True)
        try:
            read = rpc(base, session, "resources/read", {"uri": f"cqrs://account/{account}"})
            assert read["error"]["code"] == -32603 and read["error"]["data"]["status"] == 503, read
            assert "unavailable" in read["error"]["message"].lower()
            completion = rpc(base, session, "completion/complete", {
                "ref": {"type": "ref/resource", "uri": "cqrs://account/{id}"}, "argument": {"name": "id", "value": ""}})
            assert completion["error"]["code"] == -32603 and completion["error"]["data"]["status"] == 503, completion
            called = tool(base, session, "account_get", {"id": account})
            assert called["isError"] and called["structuredContent"]["status"] == 503
        finally:
            subprocess.run([os.environ["CQRS_POSTGRES_CTL"], "start"], check=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            read = rpc(base, session, "resources/read", {"uri": f"cqrs://account/{account}"})
            if "result" in read:
                break
            time.sleep(0.5)
        assert json.loads(read["result"]["contents"][0]["text"])["state"]["owner"] == "Down"


def test_a_trickling_body_is_cut_off(bank_binary):
    # One byte every 0.3 s keeps a connection from ever being idle; the body deadline still ends it.
    with http_server(bank_binary, "--connection-idle-timeout", "1") as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as slow:
            slow.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Accept: application/json\r\nContent-Length: 100\r\n\r\n")
            slow.setblocking(False)
            answer, closed = b"", False
            for _ in range(33):  # at most about 10 s
                try:
                    slow.send(b" ")
                except OSError:
                    closed = True
                    break
                time.sleep(0.3)
                try:
                    chunk = slow.recv(4096)
                    if not chunk:
                        closed = True
                        break
                    answer += chunk
                    break
                except BlockingIOError:
                    pass
            assert answer.startswith(b"HTTP/1.1 408") or closed, answer[:80]


def test_the_events_resource_keeps_the_page_budget(bank_binary):
    with http_server(bank_binary, "--page-bytes", "2000") as base:
        session = initialize(base)
        account = tool(base, session, "account_open", {"owner": "Many"})["structuredContent"]["id"]
        for n in range(40):
            tool(base, session, "account_deposit", {"id": account, "amount": 1}, request_id=10 + n)
        read = rpc(base, session, "resources/read", {"uri": f"cqrs://account/{account}/events"})
        text = read["result"]["contents"][0]["text"]
        page = json.loads(text)
        assert len(text) < 4000 and page["total"] == 41 and page["nextCursor"]
        rest = tool(base, session, "account_events", {"id": account, "cursor": page["nextCursor"]})["structuredContent"]
        assert rest["events"][0]["version"] == len(page["events"]) + 1
