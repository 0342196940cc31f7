"""No client ever receives an event about a ticket or a person it may not see."""

from __future__ import annotations

from typing import Any

from tests.live import Api, Client, settle
from tests.realtime.conftest import ClientFactory


def _tickets_in(event: str, data: Any) -> set[str]:
    if event == "message:new":
        return {data["message"]["ticket_id"]}
    if event in ("typing", "delivered", "read"):
        return {data["ticket_id"]}
    if event in ("ticket:created", "ticket:updated"):
        return {data["ticket"]["id"]}
    return set()


def _assert_only(client: Client, tickets: set[str], people: set[str], name: str) -> None:
    for event, data in client.events:
        seen = _tickets_in(event, data)
        assert seen <= tickets, f"{name} got {event} of a foreign ticket: {data}"
        if event == "presence":
            assert data["subject"]["id"] in people, f"{name} got foreign presence: {data}"


def test_two_workspaces_and_two_visitors_never_see_each_other(
    api: Api, connect: ClientFactory
) -> None:
    one, two = api.signup("One"), api.signup("Two")
    site1, site2 = api.site(one["token"]), api.site(two["token"])
    s1a, s1b, s2 = api.visitor(site1), api.visitor(site1), api.visitor(site2)
    agent1 = connect({"token": one["token"]})
    agent2 = connect({"token": two["token"]})
    v1a = connect({"visitor_token": s1a["visitor_token"]})
    v1b = connect({"visitor_token": s1b["visitor_token"]})
    v2 = connect({"visitor_token": s2["visitor_token"]})

    t1a = v1a.send("I am visitor 1a")["message"]["ticket_id"]
    t1b = v1b.send("I am visitor 1b")["message"]["ticket_id"]
    t2 = v2.send("I am visitor 2")["message"]["ticket_id"]
    for agent, ticket in ((agent1, t1a), (agent1, t1b), (agent2, t2)):
        assert agent.call("ticket:join", {"ticket_id": ticket})["ok"]
        assert agent.send("Hello from support", ticket)["ok"]
        assert agent.send("internal note", ticket, kind="note")["ok"]
        agent.emit("typing", {"ticket_id": ticket, "typing": True})
        assert agent.call("read", {"ticket_id": ticket, "seq": 1})["ok"]
    for visitor, ticket in ((v1a, t1a), (v1b, t1b), (v2, t2)):
        visitor.emit("typing", {"ticket_id": ticket, "typing": True})
        assert visitor.call("read", {"ticket_id": ticket, "seq": 2})["ok"]
        visitor.emit("delivered", {"ticket_id": ticket, "seq": 3})

    # Reaching into a foreign ticket is refused and leaks nothing.
    assert agent2.call("ticket:join", {"ticket_id": t1a})["error"]["code"] == "not_found"
    assert agent2.send("hijack", t1a)["error"]["code"] == "not_found"
    assert v1b.send("hijack", t1a)["error"]["code"] == "not_found"
    assert v1b.call("read", {"ticket_id": t1a, "seq": 1})["error"]["code"] == "not_found"
    assert v1b.call("sync", {"tickets": {t1a: 0}})["error"]["code"] == "not_found"
    assert v2.call("sync", {"tickets": {t1a: 0}})["error"]["code"] == "not_found"
    v2.emit("typing", {"ticket_id": t1a, "typing": True})

    for client in (v1a, v1b, v2):
        client.wait_for("message:new", lambda d: d["message"]["body"] == "Hello from support")
    agent1.wait_for("read", lambda d: d["ticket_id"] == t1b and d["reader"]["type"] == "visitor")
    agent2.wait_for("read", lambda d: d["ticket_id"] == t2 and d["reader"]["type"] == "visitor")
    settle(1.0)

    ids1 = {one["agent"]["id"], s1a["visitor"]["id"], s1b["visitor"]["id"]}
    ids2 = {two["agent"]["id"], s2["visitor"]["id"]}
    _assert_only(agent1, {t1a, t1b}, ids1, "agent1")
    _assert_only(agent2, {t2}, ids2, "agent2")
    _assert_only(v1a, {t1a}, {one["agent"]["id"]}, "visitor1a")
    _assert_only(v1b, {t1b}, {one["agent"]["id"]}, "visitor1b")
    _assert_only(v2, {t2}, {two["agent"]["id"]}, "visitor2")
    for visitor in (v1a, v1b, v2):
        assert all(m["kind"] != "note" for m in visitor.messages())
    # Each visitor did receive its own conversation: the check above is not vacuous.
    assert {m["ticket_id"] for m in v1b.messages()} == {t1b}
    assert {d["ticket_id"] for d in v1a.of("typing")} == {t1a}
