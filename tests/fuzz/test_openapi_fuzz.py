"""Schemathesis over the served OpenAPI document, against the real server: generated requests
for every operation, as an agent (and as a visitor where the widget calls), never get a 5xx,
and their responses match the documented schemas. The server logs no exception."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.fuzz.conftest import LogWatch, World, _first_message, _workspace
from tests.live import Api

#: Generated requests per operation and per set of path parameters.
EXAMPLES = 6
#: Operations whose side effect would end the run's own credentials.
SKIP = {("POST", "/api/v1/auth/logout")}
#: Operations the widget (a visitor) calls.
VISITOR_OPERATIONS = {
    ("POST", "/api/v1/widget/session"),
    ("PATCH", "/api/v1/widget/visitor"),
    ("POST", "/api/v1/tickets"),
    ("POST", "/api/v1/tickets/{ticket_id}/rating"),
    ("POST", "/api/v1/push/subscriptions"),
}


def _real_ids(api: Api, owner: dict[str, Any], site: dict[str, Any], ticket_id: str) -> dict:
    """Path parameters that name objects of the caller's own workspace."""
    faq = api.call(
        "POST", f"/sites/{site['id']}/faq", owner["token"], json={"question": "Q?", "answer": "A."}
    )
    return {
        "agent_id": owner["agent"]["id"],
        "site_id": site["id"],
        "ticket_id": ticket_id,
        "faq_id": (faq.get("entry") or faq).get("id", "x"),
    }


def test_generated_rest_requests_never_get_a_server_error(world: World) -> None:
    watch = LogWatch(world.server)
    api = world.api
    # A workspace of its own: the generated calls may delete, deactivate and reconfigure.
    owner, site, visitor = _workspace(api)
    ticket_id = _first_message(api, visitor)["ticket_id"]
    ids = _real_ids(api, owner, site, ticket_id)
    ids["visitor_id"] = visitor["visitor"]["id"]
    schema = schemathesis.openapi.from_url(world.server.url + "/api/v1/openapi.json")
    session = requests.Session()
    checks = [not_a_server_error, response_schema_conformance]
    calls = 0
    statuses: Counter[int] = Counter()
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        key = (operation.method.upper(), operation.path)
        if key in SKIP:
            continue
        token = visitor["visitor_token"] if key in VISITOR_OPERATIONS else owner["token"]
        headers = {"Authorization": f"Bearer {token}"}
        names = {p.name for p in operation.path_parameters}
        variants: list[dict[str, Any] | None] = [None]
        if names and names <= set(ids):
            variants.append({name: ids[name] for name in names})
        for fixed in variants:

            @settings(
                max_examples=EXAMPLES,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(path_parameters=fixed))
            def call(case: Any) -> None:
                nonlocal calls
                response = case.call(session=session, headers=headers, timeout=15)  # noqa: B023
                calls += 1
                statuses[response.status_code] += 1
                case.validate_response(response, checks=checks, headers=headers)  # noqa: B023

            # (B023: call() runs right here, within the iteration whose headers it uses.)
            call()
    print(f"{calls} requests in {time.monotonic() - started:.1f}s: {sorted(statuses.items())}")
    assert calls >= 300
    assert requests.get(world.server.url + "/healthz", timeout=5).status_code == 200
    watch.assert_clean()
