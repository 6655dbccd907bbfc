"""The OpenAPI document (validated, every route and parameter described), the /docs page, REST and
MCP seeing each other's writes, the guards (bearer token, Origin, Host), a PostgreSQL outage and
the --tools allowlist."""
import os
import re
import subprocess
import time
import uuid

import httpx2 as httpx
import pytest
from jsonschema import Draft202012Validator
from mcp import Client

from conftest import POSTGRES_URL, http_server

from rest_support import postgres_store, unique, media_type, ok, problem, base_of, path_id, open_account, command, deposit, account_state, listing
from rest_support import api, memory_api  # noqa: F401 (fixtures)


def resolve(document, reference):
    assert reference.startswith("#/"), reference
    node = document
    for part in reference[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def references(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def dereferenced(document, node):
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        node = resolve(document, node["$ref"])
    return node


def parameters(document, path, method):
    item = document["paths"][path]
    found = [dereferenced(document, p) for p in item.get("parameters", []) + item[method].get("parameters", [])]
    return {(p["in"], p["name"].lower() if p["in"] == "header" else p["name"]) for p in found}


def test_openapi_document(memory_api):
    response = memory_api.get("/openapi.json")
    assert response.status_code == 200 and "json" in media_type(response), response.headers
    document = response.json()
    assert document["openapi"].startswith("3.1"), document["openapi"]
    assert document["info"]["title"] and document["info"]["version"]
    paths = document["paths"]
    expected = {
        "/accounts/commands/open": "post", "/accounts/{id}/commands/deposit": "post",
        "/accounts/{id}/commands/withdraw": "post", "/accounts/{id}/commands/close": "post",
        "/accounts": "get", "/accounts/{id}": "get", "/accounts/{id}/events": "get",
        "/account_summaries": "get", "/account_summaries/{id}": "get",
        "/accounts/{id}/movements": "get", "/accounts/{id}/movements/{movementId}": "get",
        "/user_rights/commands/grant": "post", "/user_rights/{id}/commands/revoke": "post",
        "/user_rights": "get", "/user_rights/{id}": "get", "/user_rights/{id}/events": "get",
    }
    for path, method in expected.items():
        assert method in paths.get(path, {}), f"{method.upper()} {path} is not documented"

    deposit_parameters = parameters(document, "/accounts/{id}/commands/deposit", "post")
    assert {("path", "id"), ("header", "if-match"), ("header", "idempotency-key")} <= deposit_parameters
    deposit_operation = paths["/accounts/{id}/commands/deposit"]["post"]
    assert {"200", "412", "422"} <= set(deposit_operation["responses"]), deposit_operation["responses"]
    assert "application/json" in dereferenced(document, deposit_operation["requestBody"])["content"]
    list_parameters = parameters(document, "/accounts", "get")
    assert {("query", name) for name in ("filter", "sort", "offset", "limit", "cursor")} <= list_parameters
    assert ("path", "movementId") in parameters(document, "/accounts/{id}/movements/{movementId}", "get")

    operation_ids = [operation["operationId"] for item in paths.values() for method, operation in item.items()
                     if method in ("get", "post", "put", "patch", "delete") and "operationId" in operation]
    assert len(operation_ids) == len(set(operation_ids)), operation_ids
    for schema in document.get("components", {}).get("schemas", {}).values():
        Draft202012Validator.check_schema(schema)
    for reference in set(references(document)):
        if reference.startswith("#/"):
            resolve(document, reference)


def test_docs_page_renders_the_document_without_outside_resources(memory_api):
    response = memory_api.get("/docs")
    assert response.status_code == 200 and media_type(response) == "text/html", response.headers
    page = response.text
    assert "openapi.json" in page
    outside = re.findall(r"""(?:src|href)\s*=\s*["']\s*((?:https?:)?//[^"']*)""", page, re.IGNORECASE)
    assert not outside, outside
    assert not re.search(r"""@import\s+url\(\s*["']?(?:https?:)?//""", page, re.IGNORECASE)


# ---------------------------------------------------------------------------------------------- REST and MCP

@pytest.mark.anyio
async def test_rest_and_mcp_see_each_others_writes(api):
    account = open_account(api, "Crossing")
    async with Client(base_of(api) + "/mcp", mode="legacy") as client:
        got = await client.call_tool("account_get", {"id": account})
        assert not got.is_error, got
        assert got.structured_content["state"]["owner"] == "Crossing" and got.structured_content["version"] == 1
        deposited = await client.call_tool("account_deposit", {"id": account, "amount": 250})
        assert not deposited.is_error and deposited.structured_content["version"] == 2, deposited
        opened_over_mcp = (await client.call_tool("account_open", {"owner": "Over MCP"})).structured_content["id"]
    state = account_state(api, account)
    assert state["version"] == 2 and state["state"]["balance"] == 250, state
    assert account_state(api, opened_over_mcp)["state"]["owner"] == "Over MCP"
    events = ok(api.get(f"/accounts/{path_id(account)}/events"))["events"]
    assert [e["eventType"] for e in events] == ["opened", "deposited"]


# ---------------------------------------------------------------------------------------------- guards

def mcp_initialize(base, headers):
    return httpx.post(base + "/mcp", timeout=30, json={
        "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "rest-test", "version": "1"}}},
        headers={"Accept": "application/json, text/event-stream", **headers})


def test_a_bearer_token_guards_every_route(bank_binary):
    token = "t0k-" + uuid.uuid4().hex
    good = {"Authorization": f"Bearer {token}"}
    with http_server(bank_binary, "--token", token) as base:
        owner = unique("guard")
        routes = [("GET", "/accounts"), ("GET", "/accounts/x"), ("GET", "/accounts/x/events"),
                  ("POST", "/accounts/commands/open"), ("POST", "/accounts/x/commands/deposit"),
                  ("GET", "/account_summaries"), ("GET", "/account_summaries/x"), ("GET", "/accounts/x/movements"),
                  ("GET", "/accounts/x/movements/y"), ("GET", "/user_rights"), ("GET", "/openapi.json")]
        # docs/rest.md does not say whether the probes and /docs need the token, so only their working
        # with it is checked below.
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token}):
            for method, path in routes:
                body = {"owner": owner} if path.endswith("open") else {"amount": 1} if method == "POST" else None
                response = httpx.request(method, base + path, json=body, headers=headers, timeout=30)
                problem(response, 401)
                assert response.headers.get("www-authenticate", "").lower().startswith("bearer"), response.headers
            assert mcp_initialize(base, headers).status_code == 401

        with httpx.Client(base_url=base, headers=good, timeout=30) as client:
            # Nothing was written by the refused requests.
            assert listing(client, filter=f"state.owner=={owner}")["total"] == 0
            account = open_account(client, owner)
            assert deposit(client, account, 5)["version"] == 2
            assert account_state(client, account)["state"]["balance"] == 5
            ok(client.get(f"/accounts/{path_id(account)}/events"))
            ok(client.get("/account_summaries"))
            assert client.get("/openapi.json").status_code == 200
            assert client.get("/docs").status_code == 200
            assert client.get("/health").status_code == 200 and client.get("/ready").status_code == 200
        assert mcp_initialize(base, good).status_code == 200


def test_a_foreign_origin_or_host_is_403(memory_api):
    owner = unique("origin")
    evil = {"Origin": "https://evil.example"}
    for method, path in [("GET", "/accounts"), ("POST", "/accounts/commands/open"), ("GET", "/openapi.json"),
                         ("GET", "/account_summaries")]:
        response = memory_api.request(method, path, json={"owner": owner} if method == "POST" else None, headers=evil)
        problem(response, 403)
    assert mcp_initialize(base_of(memory_api), evil).status_code == 403
    assert listing(memory_api, filter=f"state.owner=={owner}")["total"] == 0
    # The server's own origin is welcome.
    same = {"Origin": base_of(memory_api)}
    assert ok(memory_api.post("/accounts/commands/open", json={"owner": owner}, headers=same), 201)
    # Bound to loopback, it answers only to loopback host names.
    problem(memory_api.get("/accounts", headers={"Host": "evil.example"}), 403)
    port = memory_api.base_url.port
    assert memory_api.get("/accounts", headers={"Host": f"localhost:{port}"}).status_code == 200


# ---------------------------------------------------------------------------------------------- outage

def test_a_postgres_outage_is_503_and_recovers(bank_binary):
    if not POSTGRES_URL or not os.environ.get("CQRS_POSTGRES_CTL"):
        pytest.fail("CQRS_POSTGRES_URL and CQRS_POSTGRES_CTL must be set (the test command sets both)")
    with http_server(bank_binary, store=postgres_store("rout")) as base, \
            httpx.Client(base_url=base, timeout=60) as client:
        account = open_account(client, "Down")
        deposit(client, account, 10)
        assert ok(client.get("/ready")) == {"status": "ready"}
        subprocess.run([os.environ["CQRS_POSTGRES_CTL"], "stop"], check=True)
        try:
            problem(client.get("/ready"), 503)
            problem(command(client, account, "deposit", {"amount": 1}), 503)
            problem(client.post("/accounts/commands/open", json={"owner": "Nowhere"}), 503)
            assert client.get("/health").status_code == 200  # liveness does not depend on the store
        finally:
            subprocess.run([os.environ["CQRS_POSTGRES_CTL"], "start"], check=True)
        deadline = time.monotonic() + 30
        while client.get("/ready").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert ok(client.get("/ready")) == {"status": "ready"}
        assert deposit(client, account, 5)["version"] == 3
        assert account_state(client, account)["state"]["balance"] == 15


def test_tools_typos_are_refused_and_openapi_follows_the_allowlist(bank_binary):
    import json as _json
    import subprocess as _subprocess
    typo = _subprocess.run([bank_binary, "openapi", "--tools", "acount"], capture_output=True, text=True, timeout=60)
    assert typo.returncode != 0 and "names nothing registered: acount" in typo.stderr
    served = _subprocess.run([bank_binary, "mcp", "--store", "memory:", "--tools", "account,movment_list"],
                             capture_output=True, text=True, timeout=60, input="")
    assert served.returncode != 0 and "movment_list" in served.stderr
    only = _subprocess.run([bank_binary, "openapi", "--tools", "account"], capture_output=True, text=True, timeout=60)
    paths = _json.loads(only.stdout)["paths"]
    assert "/accounts/{id}/commands/deposit" in paths and not any(p.startswith("/user_rights") for p in paths)
