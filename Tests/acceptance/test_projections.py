"""Projections fed from the global log (docs/projections.md): views equal a replay of the journal
after kill -9 under load, after a PostgreSQL outage and with two server processes on one database;
the projector fails over between processes; rebuilds survive an interruption; reads with
minPosition see the caller's own writes; the status is the same on the command line, over MCP and
over REST."""
import concurrent.futures
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid

import httpx2 as httpx
import pytest
from mcp import Client

from conftest import BINARY, MONGO_URL, POSTGRES_URL, free_port, mongo_store_url

STORES = ["sqlite"] + (["postgres"] if POSTGRES_URL else []) + (["mongo"] if MONGO_URL else [])


def postgres_store(prefix):
    if not POSTGRES_URL:
        pytest.fail("CQRS_POSTGRES_URL is not set: run `eval \"$(scripts/postgres start)\"` first")
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}schema={prefix}_{uuid.uuid4().hex[:12]}"


def store_for(kind, tmp_path, prefix="proj"):
    if kind == "mongo":
        return mongo_store_url(prefix)
    return f"sqlite:{tmp_path / 'bank.sqlite'}" if kind == "sqlite" else postgres_store(prefix)


def start_server(store, *extra):
    """`bank serve` on a free port; returns the process and its base URL once it listens."""
    port = free_port()
    process = subprocess.Popen(
        [BINARY, "serve", "--store", store, "--host", "127.0.0.1", "--port", str(port), *extra],
        stdout=subprocess.DEVNULL, stderr=sys.stderr)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f"bank serve exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return process, base
        time.sleep(0.05)
    process.kill()
    pytest.fail("bank serve did not listen within 30 s")


def stop(process, hard=False):
    if process.poll() is None:
        process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def server(store, *extra):
    process, base = start_server(store, *extra)
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            yield client, process
    finally:
        stop(process)


def open_account(client, owner):
    response = client.post("/accounts/commands/open", json={"owner": owner})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def deposit(client, account, amount):
    return client.post(f"/accounts/{account}/commands/deposit", json={"amount": amount})


def hammer(base, accounts, seconds, workers=8):
    """Deposits of 1 from `workers` threads until `seconds` pass or the server goes away."""
    stop_at = time.monotonic() + seconds

    def writer(index):
        with httpx.Client(base_url=base, timeout=10) as client:
            while time.monotonic() < stop_at:
                try:
                    deposit(client, accounts[index % len(accounts)], 1)
                except httpx.HTTPError:
                    return
    pool = concurrent.futures.ThreadPoolExecutor(workers)
    futures = [pool.submit(writer, index) for index in range(workers)]
    return pool, futures


def projections(client):
    response = client.get("/projections")
    assert response.status_code == 200, response.text
    return {p["name"]: p for p in response.json()["projections"]}


def wait_caught_up(client, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = projections(client)
        if all(p["lag"] == 0 and p.get("lastError") is None for p in status.values()):
            return status
        time.sleep(0.2)
    pytest.fail(f"the projections did not catch up: {status}")


def all_pages(client, path):
    items, cursor = [], None
    while True:
        params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = client.get(path, params=params).json()
        items += page["items"]
        cursor = page.get("nextCursor")
        if not cursor:
            return items


def assert_views_equal_the_journal(client, accounts):
    """Every view of every account equals a replay of its events: the accounts only ever see an
    `opened` and then deposits, so the journal's event count gives the movements, and `GET
    /accounts/{id}` (replayed from the journal) gives the balance."""
    summaries = {s["id"]: s for s in all_pages(client, "/account_summaries")}
    states = {s["id"]: s for s in all_pages(client, "/accounts")}
    for account in accounts:
        exact = client.get(f"/accounts/{account}").json()
        total = client.get(f"/accounts/{account}/events", params={"limit": 1}).json()["total"]
        assert exact["version"] == total
        assert states[account]["version"] == exact["version"] and states[account]["state"] == exact["state"], \
            (states[account], exact)
        summary = summaries[account]
        assert summary["balance"] == exact["state"]["balance"] and summary["movementCount"] == total - 1, (summary, exact)
        movements = all_pages(client, f"/accounts/{account}/movements")
        assert sorted(m["version"] for m in movements) == list(range(2, total + 1))
        assert sum(m["amount"] for m in movements) == exact["state"]["balance"]


# ---------------------------------------------------------------------------------------- crash safety

@pytest.mark.parametrize("kind", STORES)
def test_views_catch_up_after_kill_9_under_load(kind, tmp_path):
    store = store_for(kind, tmp_path, "kill")
    process, base = start_server(store)
    with httpx.Client(base_url=base, timeout=60) as client:
        accounts = [open_account(client, f"K{index}") for index in range(4)]
    for _ in range(3):
        pool, futures = hammer(base, accounts, seconds=30)
        time.sleep(1.5)
        stop(process, hard=True)
        concurrent.futures.wait(futures)
        pool.shutdown()
        process, base = start_server(store)
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            wait_caught_up(client)
            assert_views_equal_the_journal(client, accounts)
    finally:
        stop(process)


def test_views_are_exact_after_a_postgres_outage(tmp_path):
    ctl = os.environ.get("CQRS_POSTGRES_CTL")
    if not POSTGRES_URL or not ctl:
        pytest.fail("CQRS_POSTGRES_URL and CQRS_POSTGRES_CTL must be set (the test command sets both)")
    with server(postgres_store("outage")) as (client, process):
        accounts = [open_account(client, f"O{index}") for index in range(6)]
        pool, futures = hammer(str(client.base_url), accounts, seconds=4)
        time.sleep(1)
        subprocess.run([ctl, "stop"], check=True)
        try:
            time.sleep(2)
        finally:
            subprocess.run([ctl, "start"], check=True)
        concurrent.futures.wait(futures)
        pool.shutdown()
        deadline = time.monotonic() + 60
        while client.get("/ready").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        for account in accounts:
            assert deposit(client, account, 1).status_code == 200
        wait_caught_up(client)
        assert_views_equal_the_journal(client, accounts)


def test_two_processes_on_one_postgres_keep_exact_views():
    store = postgres_store("two")
    with server(store) as (first, _), server(store) as (second, _):
        account = open_account(first, "Shared")

        def writer(client, count):
            for _ in range(count):
                assert deposit(client, account, 1).status_code == 200
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: writer(first if i % 2 else second, 20), range(8)))
        status = wait_caught_up(first)
        owners = {p.get("owner") for p in status.values()}
        assert len(owners) >= 1 and None not in owners, status
        assert_views_equal_the_journal(first, [account])
        assert_views_equal_the_journal(second, [account])
        assert first.get(f"/account_summaries/{account}").json()["balance"] == 160


def test_the_projector_fails_over_when_its_process_dies():
    store = postgres_store("failover")
    first_process, first_base = start_server(store)
    second_process, second_base = start_server(store)
    try:
        with httpx.Client(base_url=first_base, timeout=60) as first, httpx.Client(base_url=second_base, timeout=60) as second:
            account = open_account(first, "Failover")
            assert deposit(second, account, 5).status_code == 200
            holder = projections(first)["movement"].get("owner")
            assert holder is not None
            first_runs = projections(first)["movement"]["runsHere"]
            dead, survivor = (first_process, second) if first_runs else (second_process, first)
            stop(dead, hard=True)
            result = deposit(survivor, account, 7).json()
            # The survivor takes the lease over once it expires (10 s) and catches up.
            page = None
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:
                page = survivor.get(f"/accounts/{account}/movements", params={"minPosition": result["globalPosition"]}).json()
                if not page["stale"]:
                    break
            assert page and page["stale"] is False and sorted(m["amount"] for m in page["items"]) == [5, 7], page
            status = projections(survivor)["movement"]
            assert status["runsHere"] is True and status.get("owner") != holder and status["lag"] == 0
    finally:
        stop(first_process)
        stop(second_process)


# ---------------------------------------------------------------------------------------- rebuilds

def cli(*args, timeout=120):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=timeout)


def test_rebuild_survives_an_interruption_and_resumes(tmp_path):
    store = f"sqlite:{tmp_path / 'bank.sqlite'}"
    with server(store) as (client, _):
        accounts = [open_account(client, f"R{index}") for index in range(5)]
        pool, futures = hammer(str(client.base_url), accounts, seconds=3, workers=8)
        concurrent.futures.wait(futures)
        pool.shutdown()
        wait_caught_up(client)
        before = all_pages(client, "/account_summaries")
    head = json.loads(cli("projections", "status", "--json", "--store", store).stdout)["projections"][0]["head"]
    assert head > 500
    rebuild = subprocess.Popen(
        [BINARY, "projections", "rebuild", "account_summary", "--store", store, "--projection-batch-size", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    partial = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and rebuild.poll() is None:
        status = json.loads(cli("projections", "status", "--json", "--store", store).stdout)
        summary = next(p for p in status["projections"] if p["name"] == "account_summary")
        if 0 < summary["checkpoint"] < head:
            partial = summary
            break
        time.sleep(0.05)
    rebuild.kill()
    rebuild.wait()
    assert partial is not None, "the rebuild was not caught midway"
    resumed = cli("projections", "rebuild", "account_summary", "--resume", "--store", store, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "Rebuilt account_summary" in resumed.stderr and "events" in resumed.stderr
    with server(store) as (client, _):
        wait_caught_up(client)
        assert all_pages(client, "/account_summaries") == before
        assert_views_equal_the_journal(client, accounts)


def test_projection_commands_refuse_what_they_cannot_mean(tmp_path):
    store = f"sqlite:{tmp_path / 'x.sqlite'}"
    missing = cli("projections", "status", "--store", store)
    assert missing.returncode != 0 and "No SQLite store at" in missing.stderr
    assert not (tmp_path / "x.sqlite").exists(), "a typo creates no store"
    memory = cli("projections", "status", "--store", "memory:")
    assert memory.returncode != 0 and "memory:" in memory.stderr
    # `bank mcp` with an empty input creates the store, then stops.
    subprocess.run([BINARY, "mcp", "--store", store], input="", capture_output=True, text=True, timeout=60, check=True)
    unknown = cli("projections", "rebuild", "nope", "--store", store)
    assert unknown.returncode != 0 and "Unknown projection 'nope'" in unknown.stderr


# ---------------------------------------------------------------------------------------- read your writes

def test_min_position_reads_your_writes_across_processes():
    store = postgres_store("ryw")
    with server(store, "--consistency-wait", "0") as (writer, _), server(store) as (reader, _):
        account = open_account(writer, "Reader")
        for amount in range(1, 11):
            result = deposit(writer, account, amount).json()
            page = reader.get(f"/accounts/{account}/movements", params={"minPosition": result["globalPosition"]}).json()
            assert page["stale"] is False and page["checkpoint"] >= result["globalPosition"]
            assert sorted(m["amount"] for m in page["items"]) == list(range(1, amount + 1))
        ahead = reader.get("/account_summaries", params={"minPosition": 1 << 62}).json()
        assert ahead["stale"] is True and ahead["checkpoint"] < 1 << 62
        bad = reader.get("/account_summaries", params={"minPosition": "-1"})
        assert bad.status_code == 400 and bad.json()["details"]["parameter"] == "minPosition"


@pytest.mark.anyio
async def test_status_and_min_position_over_mcp(tmp_path):
    store = f"sqlite:{tmp_path / 'bank.sqlite'}"
    with server(store) as (client, _):
        async with Client(str(client.base_url) + "/mcp", mode="legacy") as mcp:
            opened = (await mcp.call_tool("account_open", {"owner": "Agent"})).structured_content
            deposited = (await mcp.call_tool("account_deposit", {"id": opened["id"], "amount": 9})).structured_content
            listed = (await mcp.call_tool("movement_list", {
                "parentId": opened["id"], "minPosition": deposited["globalPosition"]})).structured_content
            assert listed["stale"] is False and [m["amount"] for m in listed["items"]] == [9]
            status = (await mcp.call_tool("projections_status", {})).structured_content["projections"]
            assert {p["name"] for p in status} == {"account", "movement", "account_summary", "user_right"}
            assert all(p["lag"] == 0 and p["runsHere"] for p in status)
    cli_status = json.loads(cli("projections", "status", "--json", "--store", store).stdout)["projections"]
    assert {p["name"]: p["checkpoint"] for p in cli_status} == {p["name"]: p["checkpoint"] for p in status}
    table = cli("projections", "status", "--store", store)
    assert table.returncode == 0 and "account_summary" in table.stdout
