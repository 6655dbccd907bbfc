"""REST lists: RSQL filters, sorting, paging, limits and refusals, and the views (summaries,
movements, user rights), on every store."""
import uuid
from urllib.parse import quote

import pytest

from rest_support import unique, ok, problem, bad_parameter, path_id, open_account, command, deposit, listing, ids, eventually

from rest_support import api  # noqa: F401 (fixtures)


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
