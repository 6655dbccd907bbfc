"""The REST API of `bank serve` (docs/rest.md), driven over real HTTP with httpx: commands with
If-Match and Idempotency-Key, reads with ETags and the audit log, on every store (memory, SQLite,
PostgreSQL and MongoDB when their servers are set). Lists are in test_rest_lists.py, errors and probes
in test_rest_errors.py, the OpenAPI document, /docs and the guards in test_rest_openapi.py."""
import concurrent.futures

import httpx2 as httpx

from rest_support import unique, ok, problem, bad_parameter, assert_location, path_id, etag, open_account, command, deposit, account_state, listing

from rest_support import api  # noqa: F401 (fixtures)


def test_create_answers_201_with_location_and_etag(api):
    response = api.post("/accounts/commands/open", json={"owner": "Ada"})
    body = ok(response, 201)
    account = body["id"]
    assert body["version"] == 1 and not body.get("replayed", False), body
    assert set(body) <= {"id", "version", "globalPosition", "replayed"}, body
    if "globalPosition" in body:
        assert isinstance(body["globalPosition"], int) and body["globalPosition"] >= 1
    location = assert_location(api, response, "accounts", account)
    assert response.headers.get("etag") == etag(1), response.headers

    read = api.get(location)
    state = ok(read)
    assert state == {"id": account, "version": 1, "state": state["state"]}
    assert state["state"]["owner"] == "Ada" and state["state"]["balance"] == 0 and state["state"]["status"] == "open"
    assert read.headers.get("etag") == etag(1)


def test_update_with_and_without_if_match(api):
    account = open_account(api, "Bea")
    response = command(api, account, "deposit", {"amount": 100})
    body = ok(response)
    assert body["id"] == account and body["version"] == 2 and response.headers.get("etag") == etag(2), body
    if "globalPosition" in body:
        assert isinstance(body["globalPosition"], int)

    response = command(api, account, "deposit", {"amount": 10}, headers={"If-Match": etag(2)})
    assert ok(response)["version"] == 3 and response.headers.get("etag") == etag(3)

    stale = problem(command(api, account, "withdraw", {"amount": 5}, headers={"If-Match": etag(2)}), 412)
    assert stale["details"]["currentVersion"] == 3, stale
    ahead = problem(command(api, account, "deposit", {"amount": 5}, headers={"If-Match": etag(9)}), 412)
    assert ahead["details"]["currentVersion"] == 3, ahead
    # A malformed header value is a 400 and changes nothing.
    problem(command(api, account, "deposit", {"amount": 5}, headers={"If-Match": "banana"}), 400)

    state = account_state(api, account)
    assert state["version"] == 3 and state["state"]["balance"] == 110, state


def test_concurrent_commands_without_if_match_are_all_applied(api):
    account = open_account(api, "Busy")

    def writer(_):
        with httpx.Client(base_url=api.base_url, timeout=60) as client:
            return [command(client, account, "deposit", {"amount": 1}).status_code for _ in range(5)]

    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        statuses = [status for batch in pool.map(writer, range(6)) for status in batch]
    assert statuses == [200] * 30, statuses
    state = account_state(api, account)
    assert state["state"]["balance"] == 30 and state["version"] == 31, state


def test_idempotency_key_replays_and_refuses_another_body(api):
    account = open_account(api, "Cyd")
    key = {"Idempotency-Key": unique("key")}
    first = ok(command(api, account, "deposit", {"amount": 40}, headers=key))
    assert first["version"] == 2 and not first.get("replayed", False), first

    again = command(api, account, "deposit", {"amount": 40}, headers=key)
    replayed = ok(again)
    assert replayed["replayed"] is True and replayed["version"] == 2 and replayed["id"] == account, replayed
    assert again.headers.get("etag") == etag(2)
    state = account_state(api, account)
    assert state["version"] == 2 and state["state"]["balance"] == 40, state

    reused = problem(command(api, account, "deposit", {"amount": 41}, headers=key), 422)
    assert "IDEMPOTENCY_KEY_REUSED" in reused["code"], reused
    assert account_state(api, account)["version"] == 2
    # Another key is another command.
    assert deposit(api, account, 40, headers={"Idempotency-Key": unique("key")})["version"] == 3
    # A key longer than 200 characters is a malformed header.
    problem(command(api, account, "deposit", {"amount": 1}, headers={"Idempotency-Key": "k" * 201}), 400)
    assert account_state(api, account)["version"] == 3


def test_idempotent_create_opens_one_account(api):
    owner = unique("idem")
    key = {"Idempotency-Key": unique("key")}
    first = api.post("/accounts/commands/open", json={"owner": owner}, headers=key)
    created = ok(first, 201)
    second = api.post("/accounts/commands/open", json={"owner": owner}, headers=key)
    assert second.status_code in (200, 201), second.text
    replayed = ok(second, second.status_code)
    assert replayed["id"] == created["id"] and replayed["replayed"] is True and replayed["version"] == 1, replayed
    assert listing(api, filter=f"state.owner=={owner}")["total"] == 1
    problem(api.post("/accounts/commands/open", json={"owner": owner + "x"}, headers=key), 422)


def test_a_case_without_fields_takes_no_body_or_an_empty_object(api):
    first, second = open_account(api, "Shut"), open_account(api, "Shut too")
    response = api.post(f"/accounts/{path_id(first)}/commands/close")
    assert ok(response)["version"] == 2
    assert ok(command(api, second, "close", {}))["version"] == 2
    for account in (first, second):
        assert account_state(api, account)["state"]["status"] == "closed"
    # A closed account refuses with its domain error and status.
    gone = problem(command(api, first, "deposit", {"amount": 1}), 410, "ACCOUNT_CLOSED")
    assert gone["domain"] == "account"


def test_a_domain_error_keeps_its_own_status(api):
    account = open_account(api, "Poor")
    deposit(api, account, 200)
    refused = problem(command(api, account, "withdraw", {"amount": 500}), 400, "ACCOUNT_INSUFFICIENT_FUNDS")
    assert refused["type"] == "urn:cqrs-error:account:ACCOUNT_INSUFFICIENT_FUNDS", refused
    assert refused["title"] == "Insufficient funds" and refused["domain"] == "account", refused
    assert refused["internalCode"] == 10001 and refused["detail"] == "Cannot withdraw 500, balance is 200", refused
    assert refused["details"] == {"amount": 500, "balance": 200}, refused
    assert account_state(api, account)["version"] == 2

    right = {"userId": unique("u"), "rightId": "admin"}
    ok(api.post("/user_rights/commands/grant", json=right), 201)
    problem(api.post("/user_rights/commands/grant", json=right), 409)


def test_unknown_aggregates_are_404(api):
    problem(api.get("/accounts/no-such-account"), 404)
    problem(command(api, "no-such-account", "deposit", {"amount": 1}), 404)
    problem(api.get("/accounts/no-such-account/events"), 404)


def test_ids_are_percent_decoded_path_segments(api):
    user = unique("u") + ":x/y"
    response = api.post("/user_rights/commands/grant", json={"userId": user, "rightId": "r 1"})
    granted = ok(response, 201)["id"]
    assert "%3A" in granted and "/" in granted, granted  # `:` inside a part is escaped, `/` is not
    assert_location(api, response, "user_rights", granted)
    state = ok(api.get(f"/user_rights/{path_id(granted)}"))
    assert state["id"] == granted and state["state"]["userId"] == user and state["state"]["active"] is True
    assert ok(api.post(f"/user_rights/{path_id(granted)}/commands/revoke"))["version"] == 2
    problem(api.post(f"/user_rights/{path_id(granted)}/commands/revoke"), 409, "USER_RIGHT_ALREADY_REVOKED")
    assert ok(api.get(f"/user_rights/{path_id(granted)}/events"))["total"] == 2


# ---------------------------------------------------------------------------------------------- reads

def test_get_with_etag_and_if_none_match(api):
    account = open_account(api, "Dee")
    first = api.get(f"/accounts/{path_id(account)}")
    assert ok(first)["version"] == 1 and first.headers["etag"] == etag(1)

    cached = api.get(f"/accounts/{path_id(account)}", headers={"If-None-Match": etag(1)})
    assert cached.status_code == 304, cached.text
    assert cached.content == b"" and cached.headers.get("etag") == etag(1), cached.headers
    assert cached.headers.get("x-request-id")

    deposit(api, account, 7)
    changed = api.get(f"/accounts/{path_id(account)}", headers={"If-None-Match": etag(1)})
    assert ok(changed)["state"]["balance"] == 7 and changed.headers["etag"] == etag(2)
    assert api.get(f"/accounts/{path_id(account)}", headers={"If-None-Match": etag(2)}).status_code == 304


def test_events_page_by_offset_and_cursor(api):
    account = open_account(api, "Eve")
    for amount in (1, 2, 3, 4):
        deposit(api, account, amount)
    events = f"/accounts/{path_id(account)}/events"

    everything = ok(api.get(events))
    assert everything["total"] == 5 and [e["version"] for e in everything["events"]] == [1, 2, 3, 4, 5]
    assert "nextCursor" not in everything
    opened, first_deposit = everything["events"][0], everything["events"][1]
    assert opened["eventType"] == "opened" and opened["payload"] == {"opened": {"owner": "Eve"}}
    assert first_deposit["eventType"] == "deposited" and first_deposit["payload"] == {"deposited": {"amount": 1}}
    for event in everything["events"]:
        assert {"eventId", "version", "eventType", "payload", "metadata", "occurredAt", "globalPosition"} <= event.keys()

    page0 = ok(api.get(events, params={"offset": 0, "limit": 2}))
    page1 = ok(api.get(events, params={"offset": 2, "limit": 2}))
    assert [e["version"] for e in page0["events"]] == [1, 2] and page0["total"] == 5
    assert [e["version"] for e in page1["events"]] == [3, 4] and page1["total"] == 5
    assert page0["events"] != page1["events"]
    assert ok(api.get(events, params={"offset": 10, "limit": 2}))["events"] == []

    seen, cursor, pages = [], None, 0
    while True:
        page = ok(api.get(events, params={"limit": 2, **({"cursor": cursor} if cursor else {})}))
        seen += [e["version"] for e in page["events"]]
        pages += 1
        cursor = page.get("nextCursor")
        if not cursor:
            break
        assert pages < 10
    assert seen == [1, 2, 3, 4, 5] and pages == 3

    for limit in ("0", "1001", "abc"):
        bad_parameter(api.get(events, params={"limit": limit}), "limit")
    bad_parameter(api.get(events, params={"offset": "-1"}), "offset")
    bad_parameter(api.get(events, params={"colour": "red"}), "colour")
    problem(api.get("/accounts/nobody-here/events", params={"limit": 2}), 404)


# ---------------------------------------------------------------------------------------------- lists
