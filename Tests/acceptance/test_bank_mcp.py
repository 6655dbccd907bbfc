"""The bank served over MCP, driven by the PyPI `mcp` client: stdio and HTTP, legacy and 2026-07-28."""
import json

import pytest
from jsonschema import Draft202012Validator
from mcp import Client
from mcp.shared.exceptions import MCPError

pytestmark = pytest.mark.anyio

MODES = ["legacy", "auto", "2026-07-28"]

EXPECTED_TOOLS = [
    "projections_status", "account_open", "account_deposit", "account_withdraw", "account_close", "account_get", "account_list",
    "account_events", "movement_get", "movement_list", "account_summary_get", "account_summary_list",
    "user_right_grant", "user_right_revoke", "user_right_get", "user_right_list", "user_right_events",
]


async def all_tools(client):
    tools, cursor = [], None
    while True:
        page = await client.list_tools(cursor=cursor)
        tools += page.tools
        cursor = page.next_cursor
        if not cursor:
            return tools


def structured(result):
    assert result.content and result.content[0].type == "text"
    return result.structured_content


@pytest.mark.parametrize("mode", MODES)
async def test_catalog_schemas_and_annotations(target, mode):
    async with Client(target, mode=mode) as client:
        tools = await all_tools(client)
        assert [t.name for t in tools] == EXPECTED_TOOLS
        for tool in tools:
            Draft202012Validator.check_schema(tool.input_schema)
            Draft202012Validator.check_schema(tool.output_schema)
            assert tool.input_schema["type"] == "object"
            assert tool.input_schema["additionalProperties"] is False
            assert tool.title and tool.description
            hints = tool.annotations
            assert hints.open_world_hint is False
            if tool.name.endswith(("_get", "_list", "_events", "_status")):
                assert hints.read_only_hint is True and hints.idempotent_hint is True
            else:
                assert hints.read_only_hint is False
                assert hints.destructive_hint is (tool.name in ("account_close", "user_right_revoke"))
        by_name = {t.name: t for t in tools}
        assert set(by_name["account_deposit"].input_schema["required"]) == {"id", "amount"}
        assert "expectedVersion" in by_name["account_deposit"].input_schema["properties"]
        assert "idempotencyKey" in by_name["account_deposit"].input_schema["properties"]


@pytest.mark.parametrize("mode", MODES)
async def test_account_lifecycle(target, mode):
    async with Client(target, mode=mode) as client:
        opened = await client.call_tool("account_open", {"owner": "Ada"})
        assert not opened.is_error
        account = structured(opened)
        assert account["version"] == 1
        assert json.loads(opened.content[0].text) == account
        deposited = structured(await client.call_tool("account_deposit", {"id": account["id"], "amount": 200}))
        assert deposited["version"] == 2 and deposited["globalPosition"] >= 2

        refused = await client.call_tool("account_withdraw", {"id": account["id"], "amount": 500})
        assert refused.is_error
        error = refused.structured_content
        assert error["code"] == "ACCOUNT_INSUFFICIENT_FUNDS" and error["internalCode"] == 10001
        assert error["domain"] == "account" and error["status"] == 400
        assert error["message"] == "Cannot withdraw 500, balance is 200"
        assert "Cannot withdraw 500" in refused.content[0].text

        withdrawn = structured(await client.call_tool("account_withdraw", {"id": account["id"], "amount": 50}))
        assert withdrawn["version"] == 3
        conflict = await client.call_tool("account_deposit", {"id": account["id"], "amount": 1, "expectedVersion": 2})
        assert conflict.is_error and conflict.structured_content["code"] == "INFRASTRUCTURE_CONCURRENCY_ERROR"
        assert conflict.structured_content["details"]["currentVersion"] == 3

        state = structured(await client.call_tool("account_get", {"id": account["id"]}))
        assert state["state"]["balance"] == 150 and state["version"] == 3

        closed = structured(await client.call_tool("account_close", {"id": account["id"]}))
        assert closed["version"] == 4
        gone = await client.call_tool("account_deposit", {"id": account["id"], "amount": 1})
        assert gone.is_error and gone.structured_content["code"] == "ACCOUNT_CLOSED"

        first = structured(await client.call_tool("account_events", {"id": account["id"], "limit": 2}))
        assert first["total"] == 4 and [e["version"] for e in first["events"]] == [1, 2]
        assert first["events"][1]["eventType"] == "deposited"
        assert first["events"][1]["payload"] == {"deposited": {"amount": 200}}
        rest = structured(await client.call_tool(
            "account_events", {"id": account["id"], "limit": 2, "cursor": first["nextCursor"]}))
        assert [e["version"] for e in rest["events"]] == [3, 4] and "nextCursor" not in rest

        listed = structured(await client.call_tool("account_list", {
            "filter": [{"field": "state.owner", "op": "eq", "value": "Ada"}],
            "sort": [{"field": "state.balance", "order": "desc"}]}))
        assert any(item["id"] == account["id"] for item in listed["items"])
        movements = structured(await client.call_tool("movement_list", {"parentId": account["id"]}))
        assert sorted(m["amount"] for m in movements["items"]) == [50, 200]


@pytest.mark.parametrize("mode", MODES)
async def test_bad_input_is_a_tool_error_not_a_crash(target, mode):
    async with Client(target, mode=mode) as client:
        bad = await client.call_tool("account_deposit", {"amount": "ten", "colour": "red"})
        assert bad.is_error
        violations = bad.structured_content["details"]["violations"]
        assert {v["pointer"] for v in violations} == {"", "/amount", "/colour"}
        with pytest.raises(MCPError) as raised:
            await client.call_tool("account_teleport", {})
        assert raised.value.code == -32602
        # The server is still serving.
        assert not (await client.call_tool("account_open", {"owner": "Still here"})).is_error


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_strings_are_carried_byte_for_byte(target, mode):
    owners = ["data:text/plain;base64,SGk=", "👩🏽‍💻 Ada", "مرحبا بالعالم", "x" * (1 << 20)]
    async with Client(target, mode=mode) as client:
        for owner in owners:
            account = structured(await client.call_tool("account_open", {"owner": owner}))
            state = structured(await client.call_tool("account_get", {"id": account["id"]}))
            assert state["state"]["owner"] == owner


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_resources_and_completion(target, mode):
    from mcp.types import ResourceTemplateReference
    async with Client(target, mode=mode) as client:
        account = structured(await client.call_tool("account_open", {"owner": "Res"}))
        templates = (await client.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates][:2] == ["cqrs://account/{id}", "cqrs://account/{id}/events"]
        read = await client.read_resource(f"cqrs://account/{account['id']}")
        assert json.loads(read.contents[0].text)["state"]["owner"] == "Res"
        completion = await client.complete(
            ResourceTemplateReference(type="ref/resource", uri="cqrs://account/{id}"),
            {"name": "id", "value": account["id"][:6]})
        assert account["id"] in completion.completion.values


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_numbers_keep_their_precision(target, mode):
    big = 2**53 + 1  # not representable as a double
    async with Client(target, mode=mode) as client:
        account = structured(await client.call_tool("account_open", {"owner": "Precise"}))
        await client.call_tool("account_deposit", {"id": account["id"], "amount": big})
        state = structured(await client.call_tool("account_get", {"id": account["id"]}))
        assert state["state"]["balance"] == big
        too_big = await client.call_tool("account_deposit", {"id": account["id"], "amount": 2**70})
        assert too_big.is_error and too_big.structured_content["status"] == 400
