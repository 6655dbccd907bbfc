"""REST errors as problem documents (malformed or non-JSON bodies, oversized bodies, schema
violations, unknown routes and methods), request ids and the probes."""
import uuid

from rest_support import ok, problem, violations, path_id, open_account, command, account_state, allowed, JSON, MiB
from rest_support import api  # noqa: F401 (fixtures)


def test_malformed_json_is_400(api):
    account = open_account(api, "Mal")
    for content in (b'{"amount": ', b"{amount: 5}", b'{"amount": 5} trailing'):
        problem(command(api, account, "deposit", content=content, headers={"Content-Type": JSON}), 400)
    problem(api.post("/accounts/commands/open", content=b"{", headers={"Content-Type": JSON}), 400)
    assert account_state(api, account)["version"] == 1


def test_a_body_that_is_not_json_is_415(api):
    account = open_account(api, "Type")
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        response = command(api, account, "deposit", content=b'{"amount": 5}', headers={"Content-Type": content_type})
        problem(response, 415)
    problem(api.post("/accounts/commands/open", content=b"owner=x",
                     headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
    # A charset parameter is still JSON.
    response = command(api, account, "deposit", content=b'{"amount": 5}',
                       headers={"Content-Type": "application/json; charset=utf-8"})
    assert ok(response)["version"] == 2


def test_a_body_over_4_mib_is_413(api):
    big = b'{"owner": "' + b"x" * (4 * MiB) + b'"}'
    problem(api.post("/accounts/commands/open", content=big, headers={"Content-Type": JSON}), 413)
    account = open_account(api, "Big")
    problem(command(api, account, "deposit", content=b'{"amount": 1' + b" " * (5 * MiB) + b"}",
                    headers={"Content-Type": JSON}), 413)
    assert account_state(api, account)["version"] == 1
    # Below the limit is fine.
    owner = "y" * MiB
    assert account_state(api, open_account(api, owner))["state"]["owner"] == owner


def test_a_body_that_breaks_the_schema_is_422(api):
    account = open_account(api, "Schema")
    found = violations(command(api, account, "deposit", {"amount": "ten", "colour": "red"}))
    assert {"/amount", "/colour"} <= {v["pointer"] for v in found}, found
    missing = violations(command(api, account, "deposit", {}))
    assert any(v["keyword"] == "required" for v in missing), missing
    # The id, the expected version and the idempotency key are not body fields.
    assert "/id" in {v["pointer"] for v in violations(command(api, account, "deposit", {"amount": 1, "id": "x"}))}
    violations(command(api, account, "deposit", {"amount": 1, "expectedVersion": 1}))
    violations(command(api, account, "deposit", {"amount": 1, "idempotencyKey": "k"}))
    violations(command(api, account, "close", {"force": True}))
    found = violations(api.post("/accounts/commands/open", json={"owner": 42}))
    assert "/owner" in {v["pointer"] for v in found}, found
    response = command(api, account, "deposit", content=b"[1]", headers={"Content-Type": JSON})
    problem(response, response.status_code if response.status_code in (400, 422) else 422)
    assert account_state(api, account)["version"] == 1


def test_unknown_routes_are_404(api):
    for method, path in [("GET", "/nowhere"), ("GET", "/accounts/x/nothing"), ("GET", "/teleports"),
                         ("POST", "/accounts/commands/teleport"), ("POST", "/accounts/x/commands/teleport"),
                         ("GET", "/accounts/x/movements/y/z")]:
        problem(api.request(method, path, json={} if method == "POST" else None), 404)


def test_another_method_on_a_known_path_is_405_with_allow(api):
    account = open_account(api, "Methods")
    for method, path, expected in [
        ("DELETE", "/accounts", "GET"),
        ("POST", "/accounts", "GET"),
        ("PUT", f"/accounts/{path_id(account)}", "GET"),
        ("DELETE", f"/accounts/{path_id(account)}", "GET"),
        ("GET", "/accounts/commands/open", "POST"),
        ("GET", f"/accounts/{path_id(account)}/commands/deposit", "POST"),
        ("POST", f"/accounts/{path_id(account)}/events", "GET"),
        ("POST", "/openapi.json", "GET"),
    ]:
        response = api.request(method, path)
        problem(response, 405)
        assert expected in allowed(response) and method not in allowed(response), (path, response.headers)
    assert account_state(api, account)["version"] == 1


# ---------------------------------------------------------------------------------------------- request ids

def test_request_ids(api):
    sent = "req-" + uuid.uuid4().hex
    response = api.post("/accounts/commands/open", json={"owner": "Rid"}, headers={"X-Request-Id": sent})
    account = ok(response, 201)["id"]
    assert response.headers["x-request-id"] == sent
    deposited = command(api, account, "deposit", {"amount": 3}, headers={"X-Request-Id": sent + "-2"})
    assert deposited.headers["x-request-id"] == sent + "-2"
    events = ok(api.get(f"/accounts/{path_id(account)}/events"))["events"]
    assert [e["metadata"].get("requestId") for e in events] == [sent, sent + "-2"], events

    refused = command(api, account, "withdraw", {"amount": 999}, headers={"X-Request-Id": "mine"})
    assert problem(refused, 400)["requestId"] == "mine" and refused.headers["x-request-id"] == "mine"
    assert problem(api.get("/nowhere", headers={"X-Request-Id": "lost"}), 404)["requestId"] == "lost"

    fresh = [api.get(f"/accounts/{path_id(account)}").headers.get("x-request-id") for _ in range(2)]
    assert all(fresh) and fresh[0] != fresh[1], fresh
    # Not 1-200 visible ASCII characters: a new id instead.
    for invalid in ("x" * 201, "has space", ""):
        answered = api.get(f"/accounts/{path_id(account)}", headers={"X-Request-Id": invalid})
        assert answered.status_code == 200 and answered.headers.get("x-request-id") not in (None, "", invalid)
    longest = "z" * 200
    assert api.get(f"/accounts/{path_id(account)}", headers={"X-Request-Id": longest}).headers["x-request-id"] == longest


# ---------------------------------------------------------------------------------------------- probes and documents

def test_health_and_ready(api):
    health = api.get("/health")
    assert ok(health) == {"status": "ok"}
    assert ok(api.get("/ready")) == {"status": "ready"}
