"""The example servers on MongoDB (`--store mongodb://…`) against the wire-compatible test server
(scripts/mongo-test-server, not a real mongod): the bank and the to-do lists over stdio and HTTP,
two server processes racing on one account, and the database going down mid-load."""
import concurrent.futures
import os
import subprocess
import threading
import time

import httpx2 as httpx
import pymongo
import pytest
from mcp import Client, StdioServerParameters

from conftest import BINARY, MONGO_URL, TODOLIST_BINARY, http_server, mongo_store_url
from test_postgres_servers import bank_lifecycle, restart_flow, todolist_flow
from test_projections import assert_views_equal_the_journal, open_account, server, wait_caught_up


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_bank_over_stdio_on_mongo(bank_binary, mode):
    target = StdioServerParameters(command=bank_binary, args=["mcp", "--store", mongo_store_url()])
    async with Client(target, mode=mode) as client:
        await bank_lifecycle(client)


@pytest.mark.anyio
async def test_bank_over_http_on_mongo(bank_binary):
    with http_server(bank_binary, store=mongo_store_url()) as base:
        async with Client(base + "/mcp", mode="legacy") as client:
            await bank_lifecycle(client)


@pytest.mark.anyio
async def test_state_survives_a_restart_on_mongo(bank_binary):
    await restart_flow(StdioServerParameters(command=bank_binary, args=["mcp", "--store", mongo_store_url()]))


@pytest.mark.anyio
@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_todolist_on_mongo(transport):
    url = mongo_store_url()
    if transport == "stdio":
        await todolist_flow(StdioServerParameters(command=TODOLIST_BINARY, args=["mcp", "--store", url]))
    else:
        with http_server(TODOLIST_BINARY, store=url) as base:
            await todolist_flow(base + "/mcp")


def database_of(url):
    name = url.rsplit("/", 1)[1]
    return pymongo.MongoClient(MONGO_URL, serverSelectionTimeoutMS=5000)[name]


def test_two_servers_race_on_one_account():
    """16 clients, half on each process, deposit on one account (each process decides again when the
    store refuses a stale version): every answer is a success or a 409, the balance equals the
    successes, the journal's versions are contiguous, and a stale expectedVersion is a 409."""
    store = mongo_store_url("race")
    with server(store) as (first, _), server(store) as (second, _):
        account = open_account(first, "Raced")
        outcomes = []
        lock = threading.Lock()

        def racer(index):
            base = str((first if index % 2 else second).base_url)
            with httpx.Client(base_url=base, timeout=60) as client:
                for _ in range(8):
                    response = client.post(f"/accounts/{account}/commands/deposit", json={"amount": 1})
                    with lock:
                        outcomes.append(response.status_code)
                    if response.status_code == 409:
                        assert response.json()["code"] == "INFRASTRUCTURE_CONCURRENCY_ERROR", response.text

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(racer, range(16)))
        assert set(outcomes) <= {200, 409}, outcomes
        successes = outcomes.count(200)
        assert successes >= 8, outcomes
        state = first.get(f"/accounts/{account}").json()
        assert state["state"]["balance"] == successes and state["version"] == successes + 1
        events = first.get(f"/accounts/{account}/events", params={"limit": 1000}).json()["events"]
        assert [e["version"] for e in events] == list(range(1, successes + 2))
        # The documents as MongoDB holds them: one commit per success, contiguous versions, distinct numbers.
        commits = list(database_of(store).commits.find({"a": account}).sort("v0", 1))
        assert [(c["v0"], c["v1"]) for c in commits] == [(v, v) for v in range(1, successes + 2)]
        assert len({c["seq"] for c in commits}) == len(commits)
        wait_caught_up(second)
        assert_views_equal_the_journal(second, [account])
        stale = second.post(f"/accounts/{account}/commands/deposit", json={"amount": 1}, headers={"If-Match": '"1"'})
        assert stale.status_code == 412, stale.text


@pytest.mark.anyio
async def test_a_stale_expected_version_is_a_409_over_mcp(bank_binary):
    target = StdioServerParameters(command=bank_binary, args=["mcp", "--store", mongo_store_url()])
    async with Client(target, mode="legacy") as client:
        account = (await client.call_tool("account_open", {"owner": "Stale"})).structured_content["id"]
        await client.call_tool("account_deposit", {"id": account, "amount": 1})
        stale = await client.call_tool("account_deposit", {"id": account, "amount": 1, "expectedVersion": 1})
        assert stale.is_error and stale.structured_content["code"] == "INFRASTRUCTURE_CONCURRENCY_ERROR"
        assert stale.structured_content["details"]["currentVersion"] == 2


def test_the_database_going_down_mid_load():
    """The test server is killed (kill -9) under load and started again: the bank answers 503 while it
    is down, recovers without a restart, and every acknowledged deposit is in the journal."""
    ctl = os.environ.get("CQRS_MONGO_TEST_CTL")
    if not MONGO_URL or not ctl:
        pytest.fail("CQRS_MONGO_TEST_URL and CQRS_MONGO_TEST_CTL must be set (scripts/mongo-test-server start)")
    with server(mongo_store_url("outage")) as (client, _):
        accounts = [open_account(client, f"M{index}") for index in range(4)]
        acknowledged = {account: 0 for account in accounts}
        statuses = []
        lock = threading.Lock()
        stop_at = time.monotonic() + 8

        def writer(index):
            account = accounts[index % len(accounts)]
            with httpx.Client(base_url=str(client.base_url), timeout=30) as http:
                while time.monotonic() < stop_at:
                    response = http.post(f"/accounts/{account}/commands/deposit", json={"amount": 1})
                    with lock:
                        statuses.append(response.status_code)
                        if response.status_code == 200:
                            acknowledged[account] += 1
                    if response.status_code != 200:
                        assert response.status_code == 503, response.text
                        time.sleep(0.1)

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(writer, index) for index in range(6)]
            time.sleep(1.5)
            subprocess.run([ctl, "pause"], check=True)
            try:
                time.sleep(3)
                assert client.get("/ready").status_code == 503
            finally:
                subprocess.run([ctl, "resume"], check=True)
            for future in futures:
                future.result()
        assert 503 in statuses and set(statuses) <= {200, 503}, sorted(set(statuses))
        deadline = time.monotonic() + 60
        while client.get("/ready").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        for account in accounts:
            # Every acknowledged deposit is there (an unacknowledged one may be too: its outcome was unknown).
            state = client.get(f"/accounts/{account}").json()
            assert state["state"]["balance"] >= acknowledged[account], (state, acknowledged[account])
            assert client.post(f"/accounts/{account}/commands/deposit", json={"amount": 1}).status_code == 200
        wait_caught_up(client)
        assert_views_equal_the_journal(client, accounts)
