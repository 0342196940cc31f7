"""Presence by heartbeats (the live server runs with a 4 s window and a 1 s sweep)."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.live import Api, settle
from tests.realtime.conftest import ClientFactory


def _agent_status(client, agent_id: str, status: str, timeout: float = 10) -> dict:
    return client.wait_for(
        "presence",
        lambda d: d["subject"] == {"type": "agent", "id": agent_id} and d["status"] == status,
        timeout,
    )


def test_visitor_sees_agent_come_online_go_away_and_leave(api: Api, connect: ClientFactory) -> None:
    owner = api.signup()
    site = api.site(owner["token"])
    guest = connect({"visitor_token": api.visitor(site)["visitor_token"]})
    agent_id = owner["agent"]["id"]
    agent = connect({"token": owner["token"]})
    assert _agent_status(guest, agent_id, "online")["last_seen_at"].endswith("Z")
    assert agent.call("presence:heartbeat", {"status": "away"}) == {"ok": True, "status": "away"}
    _agent_status(guest, agent_id, "away")
    assert agent.call("presence:heartbeat", {})["status"] == "online"
    _agent_status(guest, agent_id, "online")
    started = time.monotonic()
    agent.disconnect()
    _agent_status(guest, agent_id, "offline", timeout=3)
    assert time.monotonic() - started < 3


def test_last_of_several_tabs_closing_announces_offline(api: Api, connect: ClientFactory) -> None:
    owner = api.signup()
    colleague = api.add_agent(owner["token"])
    watcher = connect({"token": owner["token"]})
    tab1 = connect({"token": colleague["token"]})
    tab2 = connect({"token": colleague["token"]})
    agent_id = colleague["agent"]["id"]
    _agent_status(watcher, agent_id, "online")
    tab1.disconnect()
    settle(1.0)
    assert not [
        d
        for d in watcher.of("presence")
        if d["subject"]["id"] == agent_id and d["status"] == "offline"
    ]
    agents = api.call("GET", "/agents", owner["token"])["agents"]
    assert {a["id"]: a["availability"] for a in agents}[agent_id] == "online"
    tab2.disconnect()
    _agent_status(watcher, agent_id, "offline", timeout=3)


def test_silent_connection_goes_offline_after_the_heartbeat_window(
    api: Api, connect: ClientFactory
) -> None:
    owner = api.signup()
    site = api.site(owner["token"])
    session = api.visitor(site)
    visitor_id = session["visitor"]["id"]
    agent = connect({"token": owner["token"]})
    guest = connect({"visitor_token": session["visitor_token"]})

    def is_visitor(status: str) -> Callable[[dict], bool]:
        return lambda d: (
            d["subject"] == {"type": "visitor", "id": visitor_id} and (d["status"] == status)
        )

    agent.wait_for("presence", is_visitor("online"))
    started = time.monotonic()
    offline = agent.wait_for("presence", is_visitor("offline"), timeout=15)
    assert 3 <= time.monotonic() - started < 10  # window 4 s, sweep 1 s
    assert offline["last_seen_at"].endswith("Z")
    assert guest.call("presence:heartbeat", {})["ok"]
    agent.wait_for("presence", lambda d: is_visitor("online")(d) and d is not offline)


def test_agent_availability_toggle_is_announced_and_listed(
    api: Api, connect: ClientFactory
) -> None:
    owner = api.signup()
    site = api.site(owner["token"])
    guest = connect({"visitor_token": api.visitor(site)["visitor_token"]})
    agent = connect({"token": owner["token"]})
    agent_id = owner["agent"]["id"]
    _agent_status(guest, agent_id, "online")
    me = api.call("PATCH", "/agents/me", owner["token"], json={"availability": "away"})
    assert me["agent"]["availability"] == "away"
    _agent_status(guest, agent_id, "away")
    assert agent.call("presence:heartbeat", {})["status"] == "away"  # the choice sticks
    session = api.visitor(site)
    assert session["site"]["online"] is False
    api.call("PATCH", "/agents/me", owner["token"], json={"availability": "online"})
    _agent_status(guest, agent_id, "online")
    assert api.visitor(site)["site"]["online"] is True


def test_client_emitted_connect_and_disconnect_events_change_nothing(
    api: Api, connect: ClientFactory
) -> None:
    owner = api.signup()
    colleague = api.add_agent(owner["token"])
    watcher = connect({"token": owner["token"]})
    agent = connect({"token": colleague["token"]})
    agent_id = colleague["agent"]["id"]
    _agent_status(watcher, agent_id, "online")
    agent.emit("disconnect", "client namespace disconnect")
    agent.emit("connect", {"token": owner["token"]})
    settle(1.0)
    assert not [
        d
        for d in watcher.of("presence")
        if d["subject"]["id"] == agent_id and d["status"] == "offline"
    ]
    assert agent.call("presence:heartbeat", {})["ok"] is True
    agents = api.call("GET", "/agents", owner["token"])["agents"]
    assert {a["id"]: a["availability"] for a in agents}[agent_id] == "online"
