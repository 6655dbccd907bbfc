"""Fixtures and helpers of the REST acceptance tests (test_rest*.py)."""
import time
import uuid
from urllib.parse import quote, unquote

import httpx2 as httpx
import pytest

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
