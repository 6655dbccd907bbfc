"""Graceful shutdown: SIGTERM under load drains the requests in flight, closes the stores and exits 0;
every command the clients saw acknowledged is in the journal afterwards, and the views equal it.
Open event streams end instead of holding the shutdown."""
import concurrent.futures
import signal
import subprocess
import threading
import time

import httpx2 as httpx
import pytest

from conftest import BINARY, MONGO_URL, POSTGRES_URL
from test_projections import (assert_views_equal_the_journal, open_account, postgres_store, server, start_server,
                              stop, store_for, wait_caught_up)

STORES = ["sqlite"] + (["postgres"] if POSTGRES_URL else []) + (["mongo"] if MONGO_URL else [])


@pytest.mark.parametrize("kind", STORES)
def test_sigterm_under_load_keeps_every_acknowledged_command(kind, tmp_path):
    store = store_for(kind, tmp_path, "term")
    process, base = start_server(store)
    with httpx.Client(base_url=base, timeout=30) as client:
        accounts = [open_account(client, f"T{index}") for index in range(4)]
    acknowledged = {account: [] for account in accounts}
    lock = threading.Lock()
    streams_ended = []

    def writer(index):
        account = accounts[index % len(accounts)]
        with httpx.Client(base_url=base, timeout=30) as client:
            while True:
                try:
                    response = client.post(f"/accounts/{account}/commands/deposit", json={"amount": 1})
                except httpx.HTTPError:
                    return
                if response.status_code != 200:
                    return
                with lock:
                    acknowledged[account].append(response.json()["version"])

    def follower():
        # An open event stream must not hold the shutdown back.
        try:
            with httpx.stream("GET", f"{base}/accounts/{accounts[0]}/events/stream", timeout=60) as response:
                for _ in response.iter_lines():
                    pass
        except httpx.HTTPError:
            pass
        streams_ended.append(True)

    stream = threading.Thread(target=follower)
    stream.start()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(writer, index) for index in range(8)]
        time.sleep(2)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        shutdown = time.monotonic() - started
        concurrent.futures.wait(futures)
    stream.join(timeout=30)
    assert code == 0, f"exit code {code}"
    assert shutdown < 20, f"the shutdown took {shutdown:.1f} s"
    assert streams_ended, "the event stream ended with the server"
    assert sum(len(versions) for versions in acknowledged.values()) > 0
    with server(store) as (client, _):
        wait_caught_up(client)
        for account, versions in acknowledged.items():
            events = client.get(f"/accounts/{account}/events", params={"limit": 1}).json()
            assert max(versions, default=1) <= events["total"], f"{account}: acknowledged {max(versions)} > journal {events['total']}"
        assert_views_equal_the_journal(client, accounts)


def cli_status(store):
    import json
    result = subprocess.run([BINARY, "projections", "status", "--json", "--store", store], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return {p["name"]: p for p in json.loads(result.stdout)["projections"]}


def test_sigterm_on_the_stdio_server_hands_the_leases_back(tmp_path):
    store = f"sqlite:{tmp_path / 'bank.sqlite'}"
    process = subprocess.Popen([BINARY, "mcp", "--store", store], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if (tmp_path / "bank.sqlite").exists() and all(p.get("owner") for p in cli_status(store).values()):
                break
            time.sleep(0.2)
        assert all(p.get("owner") for p in cli_status(store).values()), "the stdio server runs the projections"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert not any(p.get("owner") for p in cli_status(store).values()), "the leases were handed back"


def test_a_restart_after_kill_9_takes_the_views_over_at_once(tmp_path):
    store = f"sqlite:{tmp_path / 'bank.sqlite'}"
    process, base = start_server(store)
    with httpx.Client(base_url=base, timeout=30) as client:
        account = open_account(client, "Restarted")
    stop(process, hard=True)
    with server(store) as (client, _):
        # The dead process's lease is not waited out: the deposit's own server applies it before
        # answering, so the summary right after has it.
        assert client.post(f"/accounts/{account}/commands/deposit", json={"amount": 3}).status_code == 200
        assert client.get(f"/account_summaries/{account}").json()["balance"] == 3, "the view has the deposit"
