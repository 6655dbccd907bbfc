"""Issue 8: every store gives the same answers to awkward input, driven through `bank mcp` and
`bank serve` with the PyPI mcp client. Each test runs on the memory, SQLite, PostgreSQL and MongoDB
(test server) stores."""
import asyncio
import uuid

import pytest
from mcp import Client, StdioServerParameters

from conftest import POSTGRES_URL, http_server, mongo_store_url

pytestmark = pytest.mark.anyio

STORES = ["memory", "sqlite", "postgres", "mongo"]


def store_url(kind, tmp_path):
    if kind == "memory":
        return "memory:"
    if kind == "sqlite":
        return f"sqlite:{tmp_path / 'bank.sqlite'}"
    if kind == "mongo":
        return mongo_store_url("int")
    if not POSTGRES_URL:
        pytest.fail("CQRS_POSTGRES_URL is not set: run `eval \"$(scripts/postgres start)\"` first")
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}schema=int_{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=STORES)
def stdio_target(request, bank_binary, tmp_path):
    return StdioServerParameters(command=bank_binary, args=["mcp", "--store", store_url(request.param, tmp_path)])


async def call(client, tool, arguments):
    return await client.call_tool(tool, arguments)


async def open_account(client, owner="Ada", amount=0):
    account = (await call(client, "account_open", {"owner": owner})).structured_content["id"]
    if amount:
        assert not (await call(client, "account_deposit", {"id": account, "amount": amount})).is_error
    return account


async def balance(client, account):
    state = (await call(client, "account_get", {"id": account})).structured_content
    return state["state"]["balance"], state["version"]


def assert_refused(result, code="INFRASTRUCTURE_VALIDATION_FAILED", status=400):
    assert result.is_error, result
    assert result.structured_content["code"] == code and result.structured_content["status"] == status, result
    assert "SQLite" not in result.structured_content["message"] and "syntax" not in result.structured_content["message"]


async def test_integers_that_do_not_fit_are_refused(stdio_target):
    async with Client(stdio_target, mode="legacy") as client:
        account = await open_account(client, amount=10)
        for version in [2**63, 2**64, 18446744073709551616, 1e30, 2.5]:
            assert_refused(await call(client, "account_deposit", {"id": account, "amount": 1, "expectedVersion": version}))
        # 2.0**53 as a double may stand for 2**53 + 1 (9007199254740993.0 reads as it): refused, not rounded.
        for amount in [2**63, -(2**63) - 1, 1e19, 2.0**53]:
            assert_refused(await call(client, "account_deposit", {"id": account, "amount": amount}))
        for limit in [2**63, 2**64]:
            assert_refused(await call(client, "account_list", {"limit": limit}))
            assert_refused(await call(client, "account_events", {"id": account, "limit": limit}))
        assert await balance(client, account) == (10, 2)
        # An integral double that fits is an integer.
        assert not (await call(client, "account_deposit", {"id": account, "amount": 1, "expectedVersion": 2.0})).is_error


async def test_in_filters_take_every_value_the_schema_allows(stdio_target):
    async with Client(stdio_target, mode="legacy") as client:
        accounts = [await open_account(client, owner=f"owner{n}", amount=n + 1) for n in range(3)]
        owners = [f"nobody{n}" for n in range(99)] + ["owner1"]
        listed = await call(client, "account_list", {"filter": [{"field": "state.owner", "op": "in", "value": owners}]})
        assert not listed.is_error, listed
        assert [item["id"] for item in listed.structured_content["items"]] == [accounts[1]]
        amounts = list(range(1000, 1099)) + [3]
        listed = await call(client, "account_list", {"filter": [{"field": "state.balance", "op": "in", "value": amounts}]})
        assert [item["id"] for item in listed.structured_content["items"]] == [accounts[2]]
        too_many = await call(client, "account_list", {"filter": [{"field": "state.owner", "op": "in", "value": owners + ["x"]}]})
        assert_refused(too_many)


async def test_composite_ids_never_collide(stdio_target):
    async with Client(stdio_target, mode="legacy") as client:
        first = await call(client, "user_right_grant", {"userId": "a_b", "rightId": "c"})
        second = await call(client, "user_right_grant", {"userId": "a", "rightId": "b_c"})
        assert not first.is_error and not second.is_error, (first, second)
        assert first.structured_content["id"] != second.structured_content["id"]
        assert not (await call(client, "user_right_revoke", {"id": first.structured_content["id"]})).is_error
        other = (await call(client, "user_right_get", {"id": second.structured_content["id"]})).structured_content
        assert other["state"]["active"] is True and other["state"]["userId"] == "a"


async def test_nul_and_control_characters_are_refused_the_same_way(stdio_target):
    async with Client(stdio_target, mode="legacy") as client:
        account = await open_account(client, amount=5)
        assert_refused(await call(client, "account_deposit", {"id": account + "\u0000x", "amount": 1}))
        assert_refused(await call(client, "account_deposit", {"id": account, "amount": 1, "idempotencyKey": "k\u0000a"}))
        assert_refused(await call(client, "account_open", {"owner": "Eve\u0000"}))
        assert_refused(await call(client, "account_get", {"id": "x" * 257}))
        assert_refused(await call(client, "account_deposit", {"id": "line\nbreak", "amount": 1}))
        assert_refused(await call(client, "account_list", {"filter": [{"field": "state.owner", "op": "eq", "value": "a\u0000"}]}))
        assert_refused(await call(client, "movement_list", {"parentId": "p\u0000"}))
        missing = await call(client, "account_get", {"id": "😀" * 256})
        assert_refused(missing, "INFRASTRUCTURE_AGGREGATE_NOT_FOUND", 404)
        assert await balance(client, account) == (5, 2)
        # Keys that differ only after a NUL were one key on SQLite: now neither is taken.
        assert_refused(await call(client, "account_deposit", {"id": account, "amount": 1, "idempotencyKey": "k\u0000b"}))
        assert await balance(client, account) == (5, 2)


async def test_strings_compare_by_bytes(stdio_target):
    composed, decomposed = "\u00e9", "e\u0301"
    async with Client(stdio_target, mode="legacy") as client:
        account = await open_account(client, owner=composed, amount=1)
        other = await open_account(client, owner=decomposed, amount=2)
        one = await call(client, "account_deposit", {"id": account, "amount": 10, "idempotencyKey": "k" + composed})
        two = await call(client, "account_deposit", {"id": account, "amount": 10, "idempotencyKey": "k" + decomposed})
        assert not one.structured_content.get("replayed") and not two.structured_content.get("replayed")
        assert (await balance(client, account))[0] == 21
        listed = await call(client, "account_list", {"filter": [{"field": "state.owner", "op": "eq", "value": composed}]})
        assert [item["id"] for item in listed.structured_content["items"]] == [account]
        everyone = await call(client, "account_list", {"filter": [{"field": "state.owner", "op": "contains", "value": ""}]})
        assert sorted(item["id"] for item in everyone.structured_content["items"]) == sorted([account, other])


async def test_numbers_beyond_2_53_compare_exactly(stdio_target):
    async with Client(stdio_target, mode="legacy") as client:
        big = await open_account(client, owner="big", amount=2**53 + 1)
        await open_account(client, owner="edge", amount=2**53)
        listed = await call(client, "account_list", {"filter": [{"field": "state.balance", "op": "gt", "value": 9007199254740992.0}]})
        assert [item["id"] for item in listed.structured_content["items"]] == [big]
        overflow = await call(client, "account_deposit", {"id": big, "amount": 2**63 - 1})
        assert_refused(overflow, "ACCOUNT_INVALID_AMOUNT", 400)


async def test_two_servers_on_postgres_never_report_a_conflict_without_expected_version(bank_binary, tmp_path):
    url = store_url("postgres", tmp_path)
    with http_server(bank_binary, store=url) as first, http_server(bank_binary, store=url) as second:
        async with Client(first + "/mcp", mode="legacy") as client:
            account = await open_account(client)

        async def writer(base):
            failures = []
            async with Client(base + "/mcp", mode="legacy") as client:
                for _ in range(10):
                    result = await call(client, "account_deposit", {"id": account, "amount": 1})
                    if result.is_error:
                        failures.append(result.structured_content)
            return failures

        results = await asyncio.gather(*[writer(first if n % 2 else second) for n in range(16)])
        assert [failure for failures in results for failure in failures] == []
        async with Client(second + "/mcp", mode="legacy") as client:
            assert await balance(client, account) == (160, 161)
            stale = await call(client, "account_deposit", {"id": account, "amount": 1, "expectedVersion": 5})
            assert_refused(stale, "INFRASTRUCTURE_CONCURRENCY_ERROR", 409)
            assert stale.structured_content["details"]["currentVersion"] == 161
