"""The example servers on PostgreSQL (`--store postgres://…`): the bank over stdio and HTTP, and the
to-do lists. Needs CQRS_POSTGRES_URL (the test command starts a throwaway cluster)."""
import json
import uuid

import pytest
from mcp import Client, StdioServerParameters

from conftest import BINARY, POSTGRES_URL, TODOLIST_BINARY, http_server

pytestmark = pytest.mark.anyio


def store_url():
    if not POSTGRES_URL:
        pytest.fail("CQRS_POSTGRES_URL is not set: run `eval \"$(scripts/postgres start)\"` first")
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}schema=acc_{uuid.uuid4().hex[:12]}"


async def bank_lifecycle(client):
    account = (await client.call_tool("account_open", {"owner": "Pat"})).structured_content
    await client.call_tool("account_deposit", {"id": account["id"], "amount": 300})
    refused = await client.call_tool("account_withdraw", {"id": account["id"], "amount": 500})
    assert refused.is_error and refused.structured_content["code"] == "ACCOUNT_INSUFFICIENT_FUNDS"
    state = (await client.call_tool("account_get", {"id": account["id"]})).structured_content
    assert state["state"]["balance"] == 300 and state["version"] == 2
    listed = (await client.call_tool("account_list", {
        "filter": [{"field": "state.balance", "op": "gte", "value": 300}]})).structured_content
    assert [item["id"] for item in listed["items"]] == [account["id"]]
    events = (await client.call_tool("account_events", {"id": account["id"]})).structured_content
    assert [e["eventType"] for e in events["events"]] == ["opened", "deposited"]


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_bank_over_stdio_on_postgres(bank_binary, mode):
    target = StdioServerParameters(command=bank_binary, args=["mcp", "--store", store_url()])
    async with Client(target, mode=mode) as client:
        await bank_lifecycle(client)


async def test_bank_over_http_on_postgres(bank_binary):
    with http_server(bank_binary, store=store_url()) as base:
        async with Client(base + "/mcp", mode="legacy") as client:
            await bank_lifecycle(client)


async def test_state_survives_a_restart_on_postgres(bank_binary):
    await restart_flow(StdioServerParameters(command=bank_binary, args=["mcp", "--store", store_url()]))


async def restart_flow(target):
    """A deposit, then a new server process on the same store finds the state and its movement."""
    async with Client(target, mode="legacy") as client:
        account = (await client.call_tool("account_open", {"owner": "Kept"})).structured_content
        await client.call_tool("account_deposit", {"id": account["id"], "amount": 42})
    async with Client(target, mode="legacy") as client:
        state = (await client.call_tool("account_get", {"id": account["id"]})).structured_content
        assert state["state"]["balance"] == 42
        movements = (await client.call_tool("movement_list", {"parentId": account["id"]})).structured_content
        assert [m["amount"] for m in movements["items"]] == [42]


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_todolist_on_postgres(transport):
    url = store_url()
    if transport == "stdio":
        await todolist_flow(StdioServerParameters(command=TODOLIST_BINARY, args=["mcp", "--store", url]))
    else:
        with http_server(TODOLIST_BINARY, store=url) as base:
            await todolist_flow(base + "/mcp")


async def todolist_flow(target):
    async with Client(target, mode="auto") as client:
        names = [t.name for t in (await client.list_tools()).tools]
        assert {"todolist_create", "todolist_add_item", "todolist_complete_item", "todolist_archive",
                "todolist_get", "todolist_list", "todolist_events", "todo_item_list", "todo_item_get"} <= set(names)
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert tools["todolist_archive"].annotations.destructive_hint is True
        assert tools["todolist_add_item"].annotations.destructive_hint is False
        created = (await client.call_tool("todolist_create", {"title": "Groceries"})).structured_content
        list_id = created["id"]
        await client.call_tool("todolist_add_item", {"id": list_id, "text": "Milk"})
        await client.call_tool("todolist_add_item", {"id": list_id, "text": "Bread"})
        items = (await client.call_tool("todo_item_list", {
            "parentId": list_id, "sort": [{"field": "position"}]})).structured_content["items"]
        assert [i["text"] for i in items] == ["Milk", "Bread"]
        milk = items[0]["id"]
        done = await client.call_tool("todolist_complete_item", {"id": list_id, "itemId": milk})
        assert not done.is_error
        again = await client.call_tool("todolist_complete_item", {"id": list_id, "itemId": milk})
        assert again.is_error and again.structured_content["code"] == "TODOLIST_ITEM_ALREADY_COMPLETED"
        missing = await client.call_tool("todolist_complete_item", {"id": list_id, "itemId": "nope"})
        assert missing.is_error and missing.structured_content["code"] == "TODOLIST_ITEM_NOT_FOUND"
        await client.call_tool("todolist_archive", {"id": list_id})
        archived = await client.call_tool("todolist_add_item", {"id": list_id, "text": "Eggs"})
        assert archived.is_error and archived.structured_content["code"] == "TODOLIST_LIST_ARCHIVED"
        state = (await client.call_tool("todolist_get", {"id": list_id})).structured_content
        assert state["state"]["archived"] is True and len(state["state"]["items"]) == 2
        read = await client.read_resource(f"cqrs://todolist/{list_id}")
        assert json.loads(read.contents[0].text)["state"]["title"] == "Groceries"
