"""Issue 13 over MCP (stdio and HTTP) and REST: dry runs, time travel, audit-log ranges, errors an agent can act on,
schemas every host accepts."""
import datetime
import json
import time

import httpx2 as httpx
import pytest
from mcp import Client

from conftest import http_server

pytestmark = pytest.mark.anyio


async def call(client, name, **arguments):
    return await client.call_tool(name, arguments)


async def opened(client, owner="Ada", deposits=()):
    result = await call(client, "account_open", owner=owner)
    account = result.structured_content["id"]
    for amount in deposits:
        assert not (await call(client, "account_deposit", id=account, amount=amount)).is_error
    return account


async def test_dry_runs_decide_without_writing(target):
    async with Client(target, mode="legacy") as client:
        account = await opened(client, deposits=[200])
        preview = (await call(client, "account_withdraw", id=account, amount=50, dryRun=True)).structured_content
        assert preview["dryRun"] is True and preview["version"] == 3
        assert preview["events"] == [{"eventType": "withdrawn", "payload": {"withdrawn": {"amount": 50}}}]
        assert preview["state"]["balance"] == 150
        log = (await call(client, "account_events", id=account)).structured_content
        assert log["total"] == 2, "a dry run writes nothing"
        refused = await call(client, "account_withdraw", id=account, amount=500, dryRun=True)
        assert refused.is_error and refused.structured_content["code"] == "ACCOUNT_INSUFFICIENT_FUNDS"
        stale = await call(client, "account_deposit", id=account, amount=1, expectedVersion=1, dryRun=True)
        assert stale.is_error and stale.structured_content["details"]["currentVersion"] == 2
        created = (await call(client, "account_open", owner="Bo", dryRun=True)).structured_content
        assert created["dryRun"] is True and created["version"] == 1 and created["state"]["owner"] == "Bo"
        missing = await call(client, "account_get", id=created["id"])
        assert missing.is_error, "a dry-run create opens nothing"
        keyed = (await call(client, "account_deposit", id=account, amount=5, idempotencyKey="dry-1", dryRun=True))
        assert not keyed.is_error
        real = (await call(client, "account_deposit", id=account, amount=5, idempotencyKey="dry-1")).structured_content
        assert "replayed" not in real, "a dry run records no idempotency key"


async def test_time_travel_and_event_ranges(target):
    async with Client(target, mode="legacy") as client:
        account = await opened(client, deposits=[10, 20])
        time.sleep(0.05)
        between = datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
        time.sleep(0.05)
        for amount in (30, 40):
            await call(client, "account_deposit", id=account, amount=amount)
        at2 = (await call(client, "account_get", id=account, asOfVersion=2)).structured_content
        assert at2["version"] == 2 and at2["state"]["balance"] == 10
        then = (await call(client, "account_get", id=account, asOfTime=between)).structured_content
        assert then["version"] == 3 and then["state"]["balance"] == 30
        before = await call(client, "account_get", id=account, asOfTime="2000-01-01T00:00:00Z")
        assert before.is_error and before.structured_content["status"] == 404
        assert before.structured_content["hint"].startswith("Use an asOfTime at or after")
        for malformed in ("2026-02-30T00:00:00Z", "2026-12-01T10:00:00+25:00", "2026-12-01 10:00:00Z", " 2026-12-01T10:00:00Z"):
            wrong = await call(client, "account_get", id=account, asOfTime=malformed)
            assert wrong.is_error and wrong.structured_content["status"] == 400, malformed
        shifted = await call(client, "account_get", id=account, asOfTime=between.replace("Z", "+00:00"))
        assert shifted.structured_content["version"] == 3
        beyond = await call(client, "account_get", id=account, asOfVersion=9)
        assert beyond.is_error and beyond.structured_content["details"]["currentVersion"] == 5
        ranged = (await call(client, "account_events", id=account, fromVersion=2, toVersion=4)).structured_content
        assert [e["version"] for e in ranged["events"]] == [2, 3, 4] and "nextCursor" not in ranged
        typed = (await call(client, "account_events", id=account, eventTypes=["opened"])).structured_content
        assert [e["eventType"] for e in typed["events"]] == ["opened"]
        paged = (await call(client, "account_events", id=account, eventTypes=["deposited"], limit=3)).structured_content
        rest = (await call(client, "account_events", id=account, eventTypes=["deposited"], cursor=paged["nextCursor"])).structured_content
        assert [e["version"] for e in paged["events"] + rest["events"]] == [2, 3, 4, 5]


async def test_errors_say_what_to_do_next(target):
    async with Client(target, mode="legacy") as client:
        account = await opened(client, deposits=[5])
        conflict = await call(client, "account_deposit", id=account, amount=1, expectedVersion=1)
        first = conflict.content[0].text.splitlines()[0]
        assert first.startswith("INFRASTRUCTURE_CONCURRENCY_ERROR:") and "expectedVersion 2" in first
        assert json.loads(conflict.content[0].text.splitlines()[-1]) == conflict.structured_content
        invalid = await call(client, "account_deposit", id=account, amount="five", colour=1)
        lines = invalid.content[0].text.splitlines()
        assert lines[0].startswith("INFRASTRUCTURE_VALIDATION_FAILED:")
        assert any(line.startswith("- /amount:") for line in lines) and any("colour" in line for line in lines)
        overdraw = await call(client, "account_withdraw", id=account, amount=500)
        assert overdraw.content[0].text.splitlines()[0] == (
            "ACCOUNT_INSUFFICIENT_FUNDS: Cannot withdraw 500, balance is 5. Withdraw at most 5.")
        assert overdraw.structured_content["hint"] == "Withdraw at most 5."
        unknown = await call(client, "account_get", id="nobody")
        assert "account_list" in unknown.content[0].text.splitlines()[0]


async def test_every_tool_schema_is_host_safe(target):
    async with Client(target, mode="legacy") as client:
        tools = (await client.list_tools()).tools
        for tool in tools:
            assert len(tool.name) <= 40
            for schema in (tool.input_schema, tool.output_schema):
                assert schema["type"] == "object"
                assert "$ref" not in json.dumps(schema) and "$defs" not in json.dumps(schema)
            assert not {"oneOf", "anyOf", "allOf"} & set(tool.input_schema)


def test_rest_dry_run_and_time_travel(bank_binary):
    with http_server(bank_binary) as base, httpx.Client(base_url=base, timeout=10) as http:
        account = http.post("/accounts/commands/open", json={"owner": "Rest"}).json()["id"]
        http.post(f"/accounts/{account}/commands/deposit", json={"amount": 70})
        preview = http.post(f"/accounts/{account}/commands/withdraw?dryRun=true", json={"amount": 20})
        assert preview.status_code == 200 and preview.json()["state"]["balance"] == 50 and "etag" not in preview.headers
        assert http.get(f"/accounts/{account}").json()["version"] == 2
        assert http.get(f"/accounts/{account}?asOfVersion=1").json()["state"]["balance"] == 0
        events = http.get(f"/accounts/{account}/events?eventTypes=deposited").json()
        assert [e["eventType"] for e in events["events"]] == ["deposited"]
        bad = http.post(f"/accounts/{account}/commands/withdraw?dryRun=maybe", json={"amount": 1})
        assert bad.status_code == 400 and bad.json()["details"]["parameter"] == "dryRun"


async def test_destructive_commands_need_confirmation(bank_binary):
    with http_server(bank_binary, "--confirm-destructive") as base:
        async with Client(base + "/mcp", mode="legacy") as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert "confirm" in tools["account_close"].input_schema["properties"]
            assert "confirm" not in tools["account_deposit"].input_schema["properties"]
            account = await opened(client)
            missing = await call(client, "account_close", id="nobody")
            assert missing.is_error and missing.structured_content["status"] == 404, "checks come before confirmation"
            refused = await call(client, "account_close", id=account)
            assert refused.is_error and refused.structured_content["status"] == 428
            assert "confirm set to true" in refused.content[0].text.splitlines()[0]
            preview = await call(client, "account_close", id=account, dryRun=True)
            assert not preview.is_error and preview.structured_content["state"]["status"] == "closed"
            assert (await call(client, "account_get", id=account)).structured_content["state"]["status"] == "open"
            closed = await call(client, "account_close", id=account, confirm=True)
            assert not closed.is_error and closed.structured_content["version"] == 2
        with httpx.Client(base_url=base, timeout=10) as http:
            other = http.post("/accounts/commands/open", json={"owner": "R"}).json()["id"]
            assert http.post(f"/accounts/{other}/commands/close").status_code == 428
            assert http.post(f"/accounts/{other}/commands/close?confirm=true").status_code == 200


def answering(action, confirm=True, asked=None):
    from mcp import types

    async def callback(context, params):
        if asked is not None:
            asked.append(params)
        return types.ElicitResult(action=action, content={"confirm": confirm} if action == "accept" else None)
    return callback


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_destructive_commands_ask_the_user_through_elicitation(bank_binary, transport):
    from mcp import StdioServerParameters
    with http_server(bank_binary, "--confirm-destructive") as base:
        target = (StdioServerParameters(command=bank_binary, args=["mcp", "--store", "memory:", "--confirm-destructive"])
                  if transport == "stdio" else base + "/mcp")
        asked = []
        async with Client(target, mode="legacy", elicitation_callback=answering("accept", asked=asked)) as client:
            account = await opened(client)
            closed = await call(client, "account_close", id=account)
            assert not closed.is_error and closed.structured_content["version"] == 2, closed.content[0].text
            assert len(asked) == 1 and "cannot be undone" in asked[0].message
            assert asked[0].requested_schema["properties"]["confirm"]["type"] == "boolean"
            missing = await call(client, "account_close", id="nobody")
            assert missing.is_error and missing.structured_content["status"] == 404 and len(asked) == 1, "no question for a 404"
        for action, confirm in [("decline", True), ("cancel", True), ("accept", False)]:
            async with Client(target, mode="legacy", elicitation_callback=answering(action, confirm)) as client:
                account = await opened(client)
                refused = await call(client, "account_close", id=account)
                assert refused.is_error and refused.structured_content["status"] == 428
                assert "did not confirm" in refused.content[0].text
                state = (await call(client, "account_get", id=account)).structured_content
                assert state["state"]["status"] == "open" and state["version"] == 1, "nothing written without consent"
