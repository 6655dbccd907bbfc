"""Live updates (docs/projections.md#live-updates): MCP `resources/subscribe` with
`notifications/resources/updated` over stdio and Streamable HTTP (the session's GET stream,
resumable with Last-Event-ID), and the REST stream of an aggregate's new events
(`GET /accounts/{id}/events/stream`). The deposits come from another client through another server
process on the same SQLite file, so the updates cross processes."""
import json
import threading
import time

import anyio
import httpx2 as httpx
import pytest
from mcp import Client, StdioServerParameters

from conftest import BINARY
from test_projections import deposit, open_account, server

pytestmark = pytest.mark.anyio


def updates_collector():
    received = []

    async def handler(message):
        inner = getattr(message, "root", message)
        if getattr(inner, "method", None) == "notifications/resources/updated":
            received.append(str(inner.params.uri))
    return received, handler


async def wait_for(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await anyio.sleep(0.05)
    return predicate()


async def deposits_reach_subscriber(target, rest, account, uri):
    received, handler = updates_collector()
    async with Client(target, mode="legacy", message_handler=handler) as client:
        assert client.server_capabilities.resources.subscribe is True
        await client.session.subscribe_resource(uri)
        for amount in range(1, 6):
            assert deposit(rest, account, amount).status_code == 200
            assert await wait_for(lambda: len(received) >= amount), f"update {amount} did not arrive: {received}"
            await anyio.sleep(0.2)
        assert set(received) == {uri} and len(received) == 5, received
        await client.session.unsubscribe_resource(uri)
        assert deposit(rest, account, 9).status_code == 200
        await anyio.sleep(0.5)
        assert len(received) == 5, "no update after unsubscribing"


async def test_subscription_over_stdio_gets_an_update_per_deposit(tmp_path):
    store = f"sqlite:{tmp_path / 'bank.sqlite'}"
    with server(store) as (rest, _):
        account = open_account(rest, "Watched")
        target = StdioServerParameters(command=BINARY, args=["mcp", "--store", store])
        await deposits_reach_subscriber(target, rest, account, f"cqrs://account/{account}")


async def test_subscription_over_http_gets_an_update_per_deposit(tmp_path):
    store = f"sqlite:{tmp_path / 'bank.sqlite'}"
    with server(store) as (rest, _), server(store) as (watcher, _):
        account = open_account(rest, "Watched")
        await deposits_reach_subscriber(str(watcher.base_url) + "/mcp", rest, account, f"cqrs://account/{account}/events")


async def test_subscribing_to_a_bad_uri_is_an_error(tmp_path):
    target = StdioServerParameters(command=BINARY, args=["mcp", "--store", "memory:"])
    async with Client(target, mode="legacy") as client:
        for uri in ["cqrs://teleport/x", "https://example.com", "cqrs://account/a%00b", "cqrs://account/x/y/z"]:
            with pytest.raises(Exception) as raised:
                await client.session.subscribe_resource(uri)
            assert "not found" in str(raised.value).lower() or "invalid" in str(raised.value).lower()


# ------------------------------------------------------------------------------ raw SSE, Last-Event-ID

def sse_events(response, count, timeout=10):
    """Reads `count` SSE events (dicts with id, event, data) from a streaming httpx response."""
    events, current = [], {}
    deadline = time.monotonic() + timeout
    for line in response.iter_lines():
        if time.monotonic() > deadline:
            break
        if line == "":
            if "data" in current:
                events.append(current)
                if len(events) == count:
                    return events
            current = {}
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            current[field] = value[1:] if value.startswith(" ") else value
    return events


def in_background(action, delay=0.3):
    thread = threading.Thread(target=lambda: (time.sleep(delay), action()))
    thread.start()
    return thread


MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def mcp_post(client, body, session=None):
    headers = dict(MCP_HEADERS)
    if session:
        headers["Mcp-Session-Id"] = session
        headers["MCP-Protocol-Version"] = "2025-11-25"
    response = client.post("/mcp", headers=headers, json=body)
    assert response.status_code in (200, 202), response.text
    return response


def test_the_session_stream_resumes_with_last_event_id(tmp_path):
    store = f"sqlite:{tmp_path / 'bank.sqlite'}"
    with server(store) as (client, _):
        account = open_account(client, "Resumed")
        init = mcp_post(client, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}})
        session = init.headers["Mcp-Session-Id"]
        mcp_post(client, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
        uri = f"cqrs://account/{account}"
        mcp_post(client, {"jsonrpc": "2.0", "id": 2, "method": "resources/subscribe", "params": {"uri": uri}}, session)
        stream_headers = {"Accept": "text/event-stream", "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}
        with client.stream("GET", "/mcp", headers=stream_headers, timeout=30) as response:
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
            writer = in_background(lambda: [deposit(client, account, 1) or time.sleep(0.3) for _ in range(2)])
            first = sse_events(response, 2)
            writer.join()
        assert [json.loads(e["data"])["params"]["uri"] for e in first] == [uri, uri]
        assert [json.loads(e["data"])["method"] for e in first] == ["notifications/resources/updated"] * 2
        last = int(first[-1]["id"])
        # Updates while no stream is open are kept for the next one.
        for _ in range(3):
            deposit(client, account, 1)
            time.sleep(0.3)
        with client.stream("GET", "/mcp", headers={**stream_headers, "Last-Event-ID": str(last)}, timeout=30) as response:
            resumed = sse_events(response, 3)
        assert [int(e["id"]) for e in resumed] == [last + 1, last + 2, last + 3]
        assert client.get("/mcp", headers={"Accept": "text/event-stream"}).status_code == 405
        unknown = client.get("/mcp", headers={**stream_headers, "Mcp-Session-Id": "0" * 64})
        assert unknown.status_code == 404


def test_the_rest_event_stream_follows_an_account_and_resumes(tmp_path):
    store = f"sqlite:{tmp_path / 'bank.sqlite'}"
    with server(store) as (client, _), server(store) as (other, _):
        account = open_account(client, "Streamed")
        with client.stream("GET", f"/accounts/{account}/events/stream", timeout=30) as response:
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
            writer = in_background(lambda: [deposit(other, account, amount) for amount in (5, 6, 7)])
            events = sse_events(response, 3)
            writer.join()
        assert [e["event"] for e in events] == ["deposited"] * 3
        assert [int(e["id"]) for e in events] == [2, 3, 4]
        assert [json.loads(e["data"])["version"] for e in events] == [2, 3, 4]
        deposit(other, account, 8)
        with client.stream("GET", f"/accounts/{account}/events/stream", headers={"Last-Event-ID": "3"}, timeout=30) as response:
            resumed = sse_events(response, 2)
        assert [int(e["id"]) for e in resumed] == [4, 5]
        with client.stream("GET", f"/accounts/{account}/events/stream", params={"fromVersion": 1}, timeout=30) as response:
            replayed = sse_events(response, 5)
        assert [e["event"] for e in replayed] == ["opened"] + ["deposited"] * 4
        assert client.get("/accounts/nobody/events/stream").status_code == 404
        assert client.get(f"/accounts/{account}/events/stream", params={"fromVersion": "0"}).status_code == 400
        assert client.get(f"/accounts/{account}/events/stream", params={"nope": "1"}).status_code == 400
        bad = client.get(f"/accounts/{account}/events/stream", headers={"Last-Event-ID": "x"})
        assert bad.status_code == 400 and bad.json()["details"]["parameter"] == "Last-Event-ID"
        assert client.post(f"/accounts/{account}/events/stream").status_code == 405
