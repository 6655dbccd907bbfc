"""`bank serve --metrics`: Prometheus text at /metrics counting commands, conflicts, store round trips and HTTP
requests."""
import re

import httpx2 as httpx

from conftest import BINARY, http_server


def metric(text, name, **labels):
    """The value of one sample of `name` whose labels include `labels` (0 when absent)."""
    for line in text.splitlines():
        match = re.match(rf'^{name}\{{(.*)\}} (\S+)$', line)
        if match and all(f'{key}="{value}"' in match.group(1) for key, value in labels.items()):
            return float(match.group(2))
    return 0


def test_metrics_count_a_deposit_and_a_conflict():
    with http_server(BINARY, "--metrics") as base, httpx.Client(base_url=base, timeout=30) as client:
        account = client.post("/accounts/commands/open", json={"owner": "Metered"}).json()["id"]
        assert client.post(f"/accounts/{account}/commands/deposit", json={"amount": 5}).status_code == 200
        stale = client.post(f"/accounts/{account}/commands/deposit", json={"amount": 5}, headers={"If-Match": '"7"'})
        assert stale.status_code == 412
        response = client.get("/metrics")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        text = response.text
        assert metric(text, "cqrs_commands_total", aggregate="account", command="deposit", outcome="ok") == 1
        assert metric(text, "cqrs_commands_total", aggregate="account", command="open", outcome="ok") == 1
        assert metric(text, "cqrs_conflicts_total", aggregate="account") == 1
        assert metric(text, "cqrs_command_duration_seconds_count", aggregate="account", command="deposit") == 2
        assert metric(text, "hb_requests", http_route="/accounts/{id}/commands/deposit", http_response_status_code="200") == 1
        # Store round trips: the open's and the deposit's commits; the stale deposit loads and never commits.
        assert metric(text, "cqrs_store_duration_seconds_count", store="InMemoryEventStore", operation="commit") == 2
        assert metric(text, "cqrs_store_duration_seconds_count", store="InMemoryEventStore", operation="load") >= 1


def test_no_metrics_route_without_the_flag():
    with http_server(BINARY) as base, httpx.Client(base_url=base, timeout=30) as client:
        assert client.get("/metrics").status_code == 404
