"""Routing on a live server: round-robin with capacity, the visitor's queue, pick-up when an
agent comes online or frees capacity, manual mode, handoff, and deactivation closing sockets."""

from __future__ import annotations

import time
from typing import Any

from tests.live import Api, Client, settle
from tests.realtime.conftest import ClientFactory


def _assigned(client: Client, ticket_id: str, agent_id: str, timeout: float = 10) -> Any:
    """Wait until ``client`` hears that the ticket went to ``agent_id``."""
    return client.wait_for(
        "ticket:updated",
        lambda d: (
            d["ticket"]["id"] == ticket_id and (d["ticket"]["assignee"] or {}).get("id") == agent_id
        ),
        timeout,
    )


def _auto(api: Api, owner: dict[str, Any], **routing: Any) -> None:
    """Turn automatic routing on for the owner's workspace (live servers default to manual)."""
    api.call("PATCH", "/workspace", owner["token"], json={"routing": {"mode": "auto", **routing}})


def _ticket(api: Api, token: str, ticket_id: str) -> dict[str, Any]:
    return api.call("GET", f"/tickets/{ticket_id}", token)["ticket"]  # type: ignore[no-any-return]


def _new_ticket(
    api: Api, connect: ClientFactory, site: dict[str, Any], body: str
) -> tuple[Client, str]:
    guest = connect({"visitor_token": api.visitor(site)["visitor_token"]})
    ack = guest.send(body)
    assert ack["ok"], ack
    return guest, ack["message"]["ticket_id"]


def test_round_robin_with_capacity_then_capacity_freed(api: Api, connect: ClientFactory) -> None:
    owner = api.signup()
    _auto(api, owner, capacity=1)
    site = api.site(owner["token"])
    ann = api.add_agent(owner["token"], "Ann")
    bob = api.add_agent(owner["token"], "Bob")
    ann_socket = connect({"token": ann["token"]})
    bob_socket = connect({"token": bob["token"]})
    ids = {ann["agent"]["id"], bob["agent"]["id"]}

    _, first = _new_ticket(api, connect, site, "First")
    one = ann_socket.wait_for(
        "ticket:updated", lambda d: d["ticket"]["id"] == first and d["ticket"]["assignee"]
    )["ticket"]["assignee"]["id"]
    _, second = _new_ticket(api, connect, site, "Second")
    two = bob_socket.wait_for(
        "ticket:updated", lambda d: d["ticket"]["id"] == second and d["ticket"]["assignee"]
    )["ticket"]["assignee"]["id"]
    assert {one, two} == ids  # one each

    # Both are at capacity (1): the third visitor waits, first in the queue.
    third_guest, third = _new_ticket(api, connect, site, "Third")
    queued = third_guest.wait_for("queue", lambda d: d["ticket_id"] == third)
    assert queued["position"] == 1
    assert "expected_wait_s" in queued
    settle(0.5)
    assert _ticket(api, owner["token"], third)["assignee"] is None

    # Resolving frees capacity: the waiting ticket goes to that agent.
    freed_token = ann["token"] if one == ann["agent"]["id"] else bob["token"]
    api.call("PATCH", f"/tickets/{first}", freed_token, json={"status": "resolved"})
    _assigned(ann_socket, third, one)
    history = api.call("GET", f"/tickets/{third}/messages", owner["token"])["messages"]
    names = {ann["agent"]["id"]: "Ann", bob["agent"]["id"]: "Bob"}
    assert [m["body"] for m in history if m["kind"] == "event"] == [
        f"Routing assigned {names[one]}"
    ]


def test_waiting_ticket_goes_to_the_agent_who_comes_online(
    api: Api, connect: ClientFactory
) -> None:
    owner = api.signup()
    _auto(api, owner)
    site = api.site(owner["token"])
    guest, ticket_id = _new_ticket(api, connect, site, "Anyone there?")
    queued = guest.wait_for("queue", lambda d: d["ticket_id"] == ticket_id)
    assert queued == {"ticket_id": ticket_id, "position": 1, "expected_wait_s": None}
    settle(0.5)
    assert _ticket(api, owner["token"], ticket_id)["assignee"] is None

    agent = connect({"token": owner["token"]})
    _assigned(agent, ticket_id, owner["agent"]["id"])
    seen = guest.wait_for(
        "ticket:updated", lambda d: d["ticket"]["id"] == ticket_id and d["ticket"]["assignee"]
    )
    assert seen["ticket"]["assignee"]["name"] == "Olive Owner"


def test_away_agents_get_nothing_until_they_are_back(api: Api, connect: ClientFactory) -> None:
    owner = api.signup()
    _auto(api, owner)
    site = api.site(owner["token"])
    agent = connect({"token": owner["token"]})
    api.call("PATCH", "/agents/me", owner["token"], json={"availability": "away"})
    agent.wait_for(
        "presence", lambda d: d["subject"]["id"] == owner["agent"]["id"] and d["status"] == "away"
    )
    _, ticket_id = _new_ticket(api, connect, site, "Hello?")
    settle(1.0)
    assert _ticket(api, owner["token"], ticket_id)["assignee"] is None
    api.call("PATCH", "/agents/me", owner["token"], json={"availability": "online"})
    _assigned(agent, ticket_id, owner["agent"]["id"])


def test_manual_mode_assigns_nothing_but_still_shows_the_queue(
    api: Api, connect: ClientFactory
) -> None:
    owner = api.signup()
    api.call("PATCH", "/workspace", owner["token"], json={"routing": {"mode": "manual"}})
    site = api.site(owner["token"])
    connect({"token": owner["token"]})
    first_guest, first = _new_ticket(api, connect, site, "One")
    second_guest, second = _new_ticket(api, connect, site, "Two")
    assert second_guest.wait_for("queue", lambda d: d["ticket_id"] == second)["position"] == 2
    settle(1.0)
    assert _ticket(api, owner["token"], first)["assignee"] is None
    assert _ticket(api, owner["token"], second)["assignee"] is None
    # Switching to auto hands the waiting tickets out at once, oldest first.
    api.call("PATCH", "/workspace", owner["token"], json={"routing": {"mode": "auto"}})
    agent_id = owner["agent"]["id"]
    watcher = connect({"token": owner["token"]})
    watcher_or_first = first_guest.wait_for(
        "ticket:updated", lambda d: d["ticket"]["id"] == first and d["ticket"]["assignee"]
    )
    assert watcher_or_first["ticket"]["assignee"]["id"] == agent_id
    assert _ticket(api, owner["token"], second)["assignee"]["id"] == agent_id
    watcher.disconnect()


def test_bot_tickets_are_routed_once_handed_off(api: Api, connect: ClientFactory) -> None:
    owner = api.signup()
    _auto(api, owner)
    site = api.site(owner["token"], bot_enabled=True)
    agent = connect({"token": owner["token"]})
    guest, ticket_id = _new_ticket(api, connect, site, "Question for the bot")
    handed = guest.call("ticket:handoff", {"ticket_id": ticket_id})
    assert handed["ok"], handed
    update = _assigned(agent, ticket_id, owner["agent"]["id"])
    assert update["ticket"]["status"] == "open"
    history = api.call("GET", f"/tickets/{ticket_id}/messages", owner["token"])["messages"]
    events = [m["body"] for m in history if m["kind"] == "event"]
    # The handoff line comes first: routing took the ticket only once it left the bot.
    assert events.count("Routing assigned Olive Owner") == 1
    assert events.index("Routing assigned Olive Owner") >= 1


def test_deactivating_an_agent_closes_its_sockets(api: Api, connect: ClientFactory) -> None:
    owner = api.signup()
    agent = api.add_agent(owner["token"], "Leaving Larry")
    watcher = connect({"token": owner["token"]})
    socket = connect({"token": agent["token"]})
    watcher.wait_for(
        "presence",
        lambda d: d["subject"]["id"] == agent["agent"]["id"] and d["status"] == "online",
    )
    api.call("PATCH", f"/agents/{agent['agent']['id']}", owner["token"], json={"active": False})
    watcher.wait_for(
        "presence",
        lambda d: d["subject"]["id"] == agent["agent"]["id"] and d["status"] == "offline",
    )
    deadline = time.monotonic() + 5
    while socket.sio.connected and time.monotonic() < deadline:
        time.sleep(0.05)  # the client notices the close a moment after the server
    assert not socket.sio.connected
