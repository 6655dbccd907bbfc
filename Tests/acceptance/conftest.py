"""Fixtures that start the built `bank` binary (never building it) over stdio or HTTP."""
import contextlib
import os
import pathlib
import socket
import subprocess
import sys
import time

import pytest
from mcp import StdioServerParameters

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(os.environ.get("BIN", str(ROOT / ".build" / "debug")))
BINARY = os.environ.get("BANK_BINARY", str(BIN / "bank"))
TODOLIST_BINARY = str(BIN / "todolist")
POSTGRES_URL = os.environ.get("CQRS_POSTGRES_URL")
MONGO_URL = os.environ.get("CQRS_MONGO_TEST_URL")


def mongo_store_url(prefix="acc"):
    """A fresh database on the MongoDB test server (scripts/mongo-test-server)."""
    if not MONGO_URL:
        pytest.fail("CQRS_MONGO_TEST_URL is not set: run `eval \"$(scripts/mongo-test-server start)\"` first")
    import uuid
    return f"{MONGO_URL.rstrip('/')}/{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="session")
def bank_binary():
    if not os.access(BINARY, os.X_OK):
        pytest.fail(f"{BINARY} is missing: build it first (swift build)")
    return BINARY


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def http_server(binary, *extra, env=None, store="memory:"):
    """Starts `bank serve` (or another example server) on a free port and yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [binary, "serve", "--store", store, "--host", "127.0.0.1", "--port", str(port), *extra],
        stdout=subprocess.DEVNULL, stderr=sys.stderr, env={**os.environ, **(env or {})})
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if process.poll() is not None:
                pytest.fail(f"bank serve exited with {process.returncode}")
            time.sleep(0.05)
        else:
            pytest.fail("bank serve did not listen within 30 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def http_base(bank_binary):
    with http_server(bank_binary) as base:
        yield base


@pytest.fixture(params=["stdio", "http"])
def target(request, bank_binary):
    """What `mcp.Client` connects to: a stdio command or the HTTP endpoint."""
    if request.param == "stdio":
        return StdioServerParameters(command=bank_binary, args=["mcp", "--store", "memory:"])
    return request.getfixturevalue("http_base") + "/mcp"
