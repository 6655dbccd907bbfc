"""Arguments sampled from every published inputSchema: never a -32603, and every success validates
against the tool's outputSchema."""
import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator
from mcp import Client
from mcp.shared.exceptions import MCPError

pytestmark = pytest.mark.anyio

EXAMPLES_PER_TOOL = 25


async def check_tool(client, tool, arguments):
    try:
        result = await client.call_tool(tool.name, arguments)
    except MCPError as error:
        assert error.error.code != -32603, f"{tool.name}({arguments}) gave an internal error"
        raise
    if not result.is_error:
        Draft202012Validator(tool.output_schema).validate(result.structured_content)
    else:
        assert result.structured_content["status"] < 500, f"{tool.name}({arguments}): {result.structured_content}"


async def test_sampled_arguments(target):
    async with Client(target, mode="legacy") as client:
        tools = (await client.list_tools()).tools
        # Some real aggregates so that ids sometimes hit.
        for owner in ("Ada", "Bob"):
            await client.call_tool("account_open", {"owner": owner})
        for tool in tools:
            failures = []

            @settings(max_examples=EXAMPLES_PER_TOOL, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(st.data())
            def run(data):
                # Draw here: hypothesis keeps its test context in this thread.
                arguments = data.draw(from_schema(tool.input_schema), label=tool.name)
                try:
                    anyio.from_thread.run(check_tool, client, tool, arguments)
                except AssertionError as error:
                    failures.append(str(error))
                    raise

            await anyio.to_thread.run_sync(run)
            assert not failures
