"""Schema discovery: every published schema has a stable $id, is listed in schemas/index.json, is an
MCP resource readable at its $id, and `bank schemas --published` writes exactly the files of schemas/."""
import json
import subprocess

import pytest
from mcp import Client, StdioServerParameters

from conftest import BINARY, ROOT

SCHEMAS = ROOT / "schemas"


def test_index_lists_every_published_file_once():
    index = json.loads((SCHEMAS / "index.json").read_text())["schemas"]
    ids = [entry["id"] for entry in index]
    assert len(ids) == len(set(ids))
    for entry in index:
        document = json.loads((SCHEMAS / entry["path"]).read_text())
        assert document["$id"] == entry["id"] and document["title"] == entry["title"] and entry["describes"]
    assert {e["path"] for e in index} == {str(p.relative_to(SCHEMAS)) for p in SCHEMAS.rglob("*.schema.json")}


@pytest.mark.anyio
async def test_schemas_are_mcp_resources_at_their_id(bank_binary):
    index = json.loads((SCHEMAS / "index.json").read_text())["schemas"]
    target = StdioServerParameters(command=bank_binary, args=["mcp", "--store", "memory:"])
    async with Client(target, mode="legacy") as client:
        listed = {str(r.uri): r for r in (await client.list_resources()).resources}
        assert set(listed) == {e["id"] for e in index}
        events = listed["cqrs://schemas/bank/account.events"]
        assert events.mime_type == "application/schema+json" and events.title == "AccountEvent"
        for entry in index:
            read = await client.read_resource(entry["id"])
            assert read.contents[0].text == (SCHEMAS / entry["path"]).read_text()
        with pytest.raises(Exception):
            await client.read_resource("cqrs://schemas/bank/nope")


def test_bank_schemas_published_writes_the_same_files(tmp_path):
    result = subprocess.run([BINARY, "schemas", "--published", "--output", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    index = json.loads((tmp_path / "index.json").read_text())["schemas"]
    assert (tmp_path / "index.json").read_text() == (SCHEMAS / "index.json").read_text()
    for entry in index:
        assert (tmp_path / entry["path"]).read_text() == (SCHEMAS / entry["path"]).read_text()
