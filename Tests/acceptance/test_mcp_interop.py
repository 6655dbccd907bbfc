"""Interop checks of the Swift MCP layer against the Python `mcp` 2.3.0 client.

Run: swift build --product MCPEcho && .venv-mcp/bin/python -m pytest -q Tests/acceptance/test_mcp_interop.py
"""
import asyncio
import os
import socket
import subprocess
import time

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
import mcp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("MCP_ECHO", os.path.join(os.environ.get("BIN", os.path.join(ROOT, ".build", "debug")), "MCPEcho"))
BIG = "data:text/plain;base64," + ("é😀\\\"xyz" * 150000)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def http_server(request):
    extra = getattr(request, "param", [])
    port = free_port()
    proc = subprocess.Popen([BINARY, "--http", str(port), *extra], stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/mcp"
    proc.terminate()
    proc.wait(10)


async def exercise(client):
    tools = await client.list_tools()
    assert [t.name for t in tools.tools] == ["echo", "slow", "fail", "domain_error"]
    result = await client.call_tool("echo", {"text": BIG})
    assert not result.is_error and result.structured_content == {"text": BIG}
    result = await client.call_tool("domain_error", {})
    assert result.is_error
    with pytest.raises(Exception) as info:
        await client.call_tool("nope", {})
    assert getattr(getattr(info.value, "error", None), "code", None) == -32602 or "-32602" in repr(info.value) or "Unknown tool" in str(info.value)
    templates = await client.list_resource_templates()
    assert templates.resource_templates[0].uri_template == "echo://{id}"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_stdio_client_modes(mode):
    async def run():
        async with mcp.Client(StdioServerParameters(command=BINARY, args=[]), mode=mode) as client:
            await exercise(client)
    asyncio.run(run())


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_stdio_client_modes_against_legacy_only(mode):
    async def run():
        async with mcp.Client(StdioServerParameters(command=BINARY, args=["--legacy-only"]), mode=mode) as client:
            await exercise(client)
    asyncio.run(run())


def test_stdio_session_and_cancellation():
    async def run():
        async with stdio_client(StdioServerParameters(command=BINARY, args=[])) as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                assert init.protocol_version == "2025-11-25"
                await session.send_ping()
                with pytest.raises(Exception):
                    from datetime import timedelta
                    await session.call_tool("slow", {"ms": 5000}, read_timeout_seconds=timedelta(seconds=0.5))
                await session.send_ping()
                result = await session.call_tool("slow", {"ms": 10})
                assert result.structured_content == {"slept": 10}
    asyncio.run(run())


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_http_client_modes(http_server, mode):
    async def run():
        async with mcp.Client(http_server, mode=mode) as client:
            await exercise(client)
    asyncio.run(run())


@pytest.mark.parametrize("http_server", [["--legacy-only"]], indirect=True)
@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_http_client_modes_against_legacy_only(http_server, mode):
    async def run():
        async with mcp.Client(http_server, mode=mode) as client:
            await exercise(client)
    asyncio.run(run())
