"""The REST API of `bank serve` (docs/rest.md), driven over real HTTP with httpx: commands with
If-Match and Idempotency-Key, reads with ETags, the audit log, lists with RSQL filters, sorting and
paging, views, errors as problem documents, request ids, the probes, the OpenAPI document and /docs,
the guards (bearer token, Origin, Host), and REST and MCP seeing each other's writes.

The core tests run on the memory and SQLite stores, and on PostgreSQL when CQRS_POSTGRES_URL is set
(a fresh schema per run)."""
import concurrent.futures
import os
import re
import subprocess
import time
import uuid
from urllib.parse import quote, unquote

import httpx2 as httpx
import pytest
from jsonschema import Draft202012Validator
from mcp import Client

from conftest import MONGO_URL, POSTGRES_URL, http_server, mongo_store_url

STORES = ["memory", "sqlite"] + (["postgres"] if POSTGRES_URL else []) + (["mongo"] if MONGO_URL else [])
JSON = "application/json"
PROBLEM = "application/problem+json"
PROBLEM_MEMBERS = {"type", "title", "status", "detail", "domain", "code", "internalCode", "requestId"}
MiB = 1 << 20


def postgres_store(prefix):
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}schema={prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module", params=STORES)
def api(request, bank_binary, tmp_path_factory):
    """An httpx client on a `bank serve` of each store, shared by the module's tests of that store."""
    if request.param == "memory":
        store = "memory:"
    elif request.param == "sqlite":
        store = f"sqlite:{tmp_path_factory.mktemp('rest') / 'bank.sqlite'}"
    elif request.param == "mongo":
        store = mongo_store_url("rest")
    else:
        store = postgres_store("rest")
    with http_server(bank_binary, store=store) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield client


@pytest.fixture
def memory_api(http_base):
    with httpx.Client(base_url=http_base, timeout=60) as client:
        yield client


# ---------------------------------------------------------------------------------------------- helpers

def unique(prefix="t"):
    """A name no other test uses and that a bare RSQL value can carry (letters and digits)."""
    return prefix + uuid.uuid4().hex[:12]


def media_type(response):
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def ok(response, status=200):
    assert response.status_code == status, (response.request.method, str(response.request.url),
                                            response.status_code, response.text[:2000])
    assert media_type(response) == JSON, response.headers
    assert response.headers.get("x-request-id"), response.headers
    return response.json()


def problem(response, status, code=None):
    """Checks an RFC 9457 problem document with the CqrsError members and returns it."""
    assert response.status_code == status, (response.request.method, str(response.request.url),
                                            response.status_code, response.text[:2000])
    assert media_type(response) == PROBLEM, (response.headers, response.text[:500])
    body = response.json()
    assert PROBLEM_MEMBERS <= body.keys(), f"missing {PROBLEM_MEMBERS - body.keys()} in {body}"
    assert body["status"] == status, body
    assert isinstance(body["internalCode"], int) and isinstance(body["code"], str) and body["code"], body
    assert all(isinstance(body[key], str) for key in ("type", "title", "detail", "domain", "requestId")), body
    assert body["requestId"] == response.headers.get("x-request-id"), (body, response.headers)
    if "instance" in body:
        assert body["instance"] == f"urn:cqrs-request:{body['requestId']}", body
    if code is not None:
        assert body["code"] == code, body
    return body


def bad_parameter(response, parameter):
    body = problem(response, 400)
    assert body.get("details", {}).get("parameter") == parameter, body
    return body


def violations(response):
    body = problem(response, 422)
    found = body.get("details", {}).get("violations")
    assert isinstance(found, list) and found, body
    for violation in found:
        assert {"pointer", "keyword", "message"} <= violation.keys(), violation
    return found


def base_of(client):
    return str(client.base_url).rstrip("/")


def assert_location(client, response, collection, created):
    """`Location` is `/{collection}/{id}` (or the same as an absolute URL), the id one percent-encoded
    path segment (which characters are escaped is the server's choice)."""
    location = response.headers.get("location") or ""
    path = location[len(base_of(client)):] if location.startswith(base_of(client)) else location
    prefix = f"/{collection}/"
    assert path.startswith(prefix) and "/" not in path[len(prefix):], (location, created)
    assert unquote(path[len(prefix):]) == created, (location, created)
    return location


def path_id(value):
    return quote(value, safe="")


def etag(version):
    return f'"{version}"'


def open_account(client, owner, headers=None):
    response = client.post("/accounts/commands/open", json={"owner": owner}, headers=headers)
    body = ok(response, 201)
    assert isinstance(body["id"], str) and body["id"] and body["version"] == 1, body
    return body["id"]


def command(client, account, case, body=None, headers=None, content=None):
    url = f"/accounts/{path_id(account)}/commands/{case}"
    if content is not None:
        return client.post(url, content=content, headers=headers)
    return client.post(url, json=body, headers=headers)


def deposit(client, account, amount, headers=None):
    return ok(command(client, account, "deposit", {"amount": amount}, headers))


def account_state(client, account):
    response = client.get(f"/accounts/{path_id(account)}")
    body = ok(response)
    assert response.headers.get("etag") == etag(body["version"]), response.headers
    return body


def listing(client, path="/accounts", **params):
    return ok(client.get(path, params=params))


def ids(page):
    return [item["id"] for item in page["items"]]


def eventually(read, accept, timeout=10):
    """Views follow the journal through dispatchers: reads them until `accept` holds."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if accept(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def allowed(response):
    return {method.strip().upper() for method in response.headers.get("allow", "").split(",") if method.strip()}


# ---------------------------------------------------------------------------------------------- commands

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

@pytest.fixture(scope="module")
def people(api):
    """Six accounts under one prefix: owner -> (id, balance, status)."""
    prefix = unique("p")
    plan = {"alice": (150, "open"), "bob": (50, "open"), "carol": (300, "open"), "dave": (100, "closed"),
            "erin": (100, "open"), "frank": (0, "open")}
    accounts = {}
    for name, (balance, status) in plan.items():
        account = open_account(api, prefix + name)
        if balance:
            deposit(api, account, balance)
        if status == "closed":
            ok(command(api, account, "close", {}))
        accounts[name] = account
    return prefix, accounts


def scoped(prefix, expression=None):
    scope = f"state.owner=like={prefix}*"
    return f"{scope};({expression})" if expression else scope


def test_list_items_and_total(api, people):
    prefix, accounts = people
    page = listing(api, filter=scoped(prefix))
    assert page["total"] == 6 and sorted(ids(page)) == sorted(accounts.values())
    for item in page["items"]:
        assert set(item) == {"id", "version", "state"}, item
    by_id = {item["id"]: item for item in page["items"]}
    assert by_id[accounts["carol"]]["state"]["balance"] == 300 and by_id[accounts["carol"]]["version"] == 2
    assert by_id[accounts["dave"]]["state"]["status"] == "closed" and by_id[accounts["dave"]]["version"] == 3


@pytest.mark.parametrize("expression, expected", [
    ("state.balance=ge=100", {"alice", "carol", "dave", "erin"}),
    ("state.balance=gt=100", {"alice", "carol"}),
    ("state.balance=lt=100", {"bob", "frank"}),
    ("state.balance=le=100;state.balance=gt=0", {"bob", "dave", "erin"}),
    ("state.balance==150", {"alice"}),
    ("state.balance!=100", {"alice", "bob", "carol", "frank"}),
    ("state.status==closed", {"dave"}),
    ("state.status!=closed;state.balance=ge=100", {"alice", "carol", "erin"}),
    # `;` binds tighter than `,`: alice, or (carol and below 100).
    ("state.owner=={p}alice,state.owner=={p}carol;state.balance=lt=100", {"alice"}),
    # Parentheses group: (alice or carol) and above 200.
    ("(state.owner=={p}alice,state.owner=={p}carol);state.balance=gt=200", {"carol"}),
    ("state.balance=ge=100;(state.owner=={p}alice,state.owner=={p}bob)", {"alice"}),
    ("state.owner=in=({p}alice,{p}dave)", {"alice", "dave"}),
    ("state.balance=in=(50,300)", {"bob", "carol"}),
    ("state.owner=out=({p}alice,{p}dave)", {"bob", "carol", "erin", "frank"}),
    ("state.owner=like={p}er*", {"erin"}),
    ("state.owner=like=*ar*", {"carol"}),
    ("state.owner=='{p}frank'", {"frank"}),
    ('state.owner=="{p}frank",state.owner==\'{p}bob\'', {"bob", "frank"}),
])
def test_list_filters(api, people, expression, expected):
    prefix, accounts = people
    page = listing(api, filter=scoped(prefix, expression.replace("{p}", prefix)), limit=100)
    assert sorted(ids(page)) == sorted(accounts[name] for name in expected), (expression, page)
    assert page["total"] == len(expected)


def test_list_filter_as_written_in_the_url(api, people):
    prefix, accounts = people
    # Unencoded, as the documentation's example reads.
    response = api.get(f"/accounts?filter=state.owner=like={prefix}*;state.balance=ge=100;"
                       f"(state.owner=={prefix}alice,state.owner=={prefix}bob)&sort=-state.balance")
    assert ids(ok(response)) == [accounts["alice"]]


def test_a_quoted_value_is_always_a_string(api):
    digits = str(uuid.uuid4().int)[:15]
    spaced = unique("q") + " with, comma"
    numeric, text = open_account(api, digits), open_account(api, spaced)
    quoted = ok(api.get("/accounts?filter=" + quote(f"state.owner=='{digits}'", safe="")))
    assert ids(quoted) == [numeric]
    double = ok(api.get("/accounts?filter=" + quote(f'state.owner=="{spaced}"', safe="")))
    assert ids(double) == [text]


@pytest.mark.parametrize("sort, expected", [
    ("-state.balance", ["carol", "alice", "dave|erin", "bob", "frank"]),
    ("state.balance", ["frank", "bob", "dave|erin", "alice", "carol"]),
    ("state.owner", ["alice", "bob", "carol", "dave", "erin", "frank"]),
    ("-state.owner", ["frank", "erin", "dave", "carol", "bob", "alice"]),
    ("state.status,-state.balance", ["dave", "carol", "alice", "erin", "bob", "frank"]),
])
def test_list_sort(api, people, sort, expected):
    prefix, accounts = people
    order = []
    for entry in expected:
        tied = [accounts[name] for name in entry.split("|")]
        order += sorted(tied, key=lambda value: value.encode())  # ties by id
    assert ids(listing(api, filter=scoped(prefix), sort=sort)) == order


def test_list_paging(api, people):
    prefix, accounts = people
    order = ids(listing(api, filter=scoped(prefix), sort="state.owner"))
    assert order == [accounts[name] for name in ("alice", "bob", "carol", "dave", "erin", "frank")]

    page0 = listing(api, filter=scoped(prefix), sort="state.owner", offset=0, limit=4)
    page1 = listing(api, filter=scoped(prefix), sort="state.owner", offset=4, limit=4)
    assert ids(page0) == order[:4] and ids(page1) == order[4:] and page0["total"] == page1["total"] == 6
    assert "nextCursor" not in page1

    seen, cursor, pages = [], None, 0
    while True:
        params = {"filter": scoped(prefix), "sort": "state.owner", "limit": 4, **({"cursor": cursor} if cursor else {})}
        page = listing(api, **params)
        seen += ids(page)
        pages += 1
        cursor = page.get("nextCursor")
        if not cursor:
            break
        assert pages < 5
    assert seen == order and pages == 2
    assert ids(listing(api, filter=scoped(prefix), sort="state.owner", limit=1000)) == order


def test_list_limit_defaults_to_20(api):
    prefix = unique("many")
    for n in range(21):
        open_account(api, f"{prefix}{n:02d}")
    page = listing(api, filter=scoped(prefix))
    assert len(page["items"]) == 20 and page["total"] == 21 and page.get("nextCursor"), page
    rest = listing(api, filter=scoped(prefix), cursor=page["nextCursor"])
    assert len(rest["items"]) == 1 and set(ids(rest)).isdisjoint(ids(page))


@pytest.mark.parametrize("params, parameter", [
    ({"colour": "red"}, "colour"),
    ({"limit": "0"}, "limit"),
    ({"limit": "1001"}, "limit"),
    ({"limit": "abc"}, "limit"),
    ({"offset": "-1"}, "offset"),
    ({"offset": "many"}, "offset"),
    ({"cursor": "not a cursor!"}, "cursor"),
    ({"filter": "state.balance=ge="}, "filter"),
    ({"filter": "(state.balance==1"}, "filter"),
    ({"filter": "state.balance=near=1"}, "filter"),
    ({"filter": "state.colour==red"}, "filter"),
    ({"sort": "state.colour"}, "sort"),
    ({"sort": "-"}, "sort"),
    ({"filter": "state.owner=like=*ob"}, "filter"),  # no "ends with" in the filter model
    ({"filter": "state.owner=like=a*b"}, "filter"),
], ids=lambda value: "&".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else value)
def test_list_refuses_bad_parameters(api, params, parameter):
    bad_parameter(api.get("/accounts", params=params), parameter)


def test_list_refuses_cursor_with_offset(api, people):
    prefix, _ = people
    page = listing(api, filter=scoped(prefix), limit=2)
    body = problem(api.get("/accounts", params={"filter": scoped(prefix), "limit": 2, "offset": 2,
                                                "cursor": page["nextCursor"]}), 400)
    assert body.get("details", {}).get("parameter") in ("cursor", "offset"), body


def test_user_rights_list_filters_booleans(api):
    user = unique("b")
    granted = [ok(api.post("/user_rights/commands/grant", json={"userId": user, "rightId": right}), 201)["id"]
               for right in ("read", "write")]
    ok(api.post(f"/user_rights/{path_id(granted[1])}/commands/revoke"))
    scope = f"state.userId=={user}"
    assert ids(listing(api, "/user_rights", filter=f"{scope};state.active==true")) == [granted[0]]
    assert ids(listing(api, "/user_rights", filter=f"{scope};state.active==false")) == [granted[1]]
    assert listing(api, "/user_rights", filter=scope)["total"] == 2


# ---------------------------------------------------------------------------------------------- views

def test_account_summaries(api):
    owner = unique("sum")
    account = open_account(api, owner)
    deposit(api, account, 100)
    ok(command(api, account, "withdraw", {"amount": 30}))
    summary = eventually(lambda: api.get(f"/account_summaries/{path_id(account)}"),
                         lambda response: response.status_code == 200 and response.json().get("movementCount") == 2)
    body = ok(summary)
    assert {k: body[k] for k in ("id", "owner", "balance", "status", "movementCount")} == {
        "id": account, "owner": owner, "balance": 70, "status": "open", "movementCount": 2}, body
    assert isinstance(body["updatedAt"], str)

    other = open_account(api, owner + "b")
    deposit(api, other, 500)
    page = eventually(lambda: listing(api, "/account_summaries", filter=f"owner=like={owner}*", sort="-balance"),
                      lambda page: page["total"] == 2)
    assert ids(page) == [other, account] and page["total"] == 2
    assert ids(listing(api, "/account_summaries", filter=f"owner=={owner};balance=lt=100")) == [account]
    problem(api.get("/account_summaries/no-such-account"), 404)
    bad_parameter(api.get("/account_summaries", params={"colour": "red"}), "colour")
    bad_parameter(api.get("/account_summaries", params={"limit": "0"}), "limit")


def test_movements_under_their_account(api):
    account = open_account(api, unique("mov"))
    for amount in (100, 20, 5):
        deposit(api, account, amount)
    ok(command(api, account, "withdraw", {"amount": 30}))
    movements = f"/accounts/{path_id(account)}/movements"
    page = eventually(lambda: listing(api, movements, sort="amount"), lambda page: page["total"] == 4)
    assert [(m["kind"], m["amount"]) for m in page["items"]] == [
        ("deposit", 5), ("deposit", 20), ("withdrawal", 30), ("deposit", 100)], page
    assert all(m["accountId"] == account for m in page["items"])

    events = {e["eventId"].lower(): e for e in ok(api.get(f"/accounts/{path_id(account)}/events"))["events"]}
    for movement in page["items"]:
        assert events[movement["id"].lower()]["version"] == movement["version"]
        one = ok(api.get(f"{movements}/{path_id(movement['id'])}"))
        assert one == movement

    assert ids(listing(api, movements, filter="kind==withdrawal")) == [page["items"][2]["id"]]
    assert [m["amount"] for m in listing(api, movements, sort="-amount", limit=2)["items"]] == [100, 30]
    two = listing(api, movements, sort="version", limit=2)
    rest = listing(api, movements, sort="version", limit=2, cursor=two["nextCursor"])
    assert [m["version"] for m in two["items"] + rest["items"]] == [2, 3, 4, 5]
    problem(api.get(f"{movements}/no-such-movement"), 404)
    # A movement is found under its own account only.
    other = open_account(api, unique("mov"))
    problem(api.get(f"/accounts/{path_id(other)}/movements/{path_id(page['items'][0]['id'])}"), 404)
    bad_parameter(api.get(movements, params={"sort": "colour"}), "sort")


# ---------------------------------------------------------------------------------------------- errors

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
