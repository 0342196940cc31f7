"""Reports: tickets per day, first response and resolution times, CSAT and per agent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from app.extensions import db
from app.models import Message, Rating, Ticket
from tests import factories as f

DAY = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def _report(client: FlaskClient, who: f.Owner, query: str) -> Any:
    return client.get(f"/api/v1/reports?{query}", headers=who.headers)


def _at(app: Flask, ticket_id: str, created: datetime, replies: dict[int, datetime]) -> None:
    """Move a ticket's creation and some of its messages (by seq) to fixed times."""
    with app.app_context():
        db.session.execute(update(Ticket).where(Ticket.id == ticket_id).values(created_at=created))
        db.session.execute(
            update(Message).where(Message.ticket_id == ticket_id).values(created_at=created)
        )
        for seq, at in replies.items():
            db.session.execute(
                update(Message)
                .where(Message.ticket_id == ticket_id, Message.seq == seq)
                .values(created_at=at)
            )
        db.session.commit()


def _resolve(app: Flask, client: FlaskClient, who: f.Owner, ticket_id: str, at: datetime) -> None:
    r = client.patch(
        f"/api/v1/tickets/{ticket_id}", headers=who.headers, json={"status": "resolved"}
    )
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        db.session.execute(update(Ticket).where(Ticket.id == ticket_id).values(resolved_at=at))
        db.session.commit()


def _rate(
    app: Flask, client: FlaskClient, visitor: f.VisitorSession, ticket_id: str, score: int
) -> None:
    r = client.post(
        f"/api/v1/tickets/{ticket_id}/rating", headers=visitor.headers, json={"score": score}
    )
    assert r.status_code == 201, r.get_json()
    with app.app_context():
        db.session.execute(
            update(Rating)
            .where(Rating.ticket_id == ticket_id)
            .values(updated_at=DAY + timedelta(hours=5))
        )
        db.session.commit()


def _assign(client: FlaskClient, who: f.Owner, ticket_id: str, agent_id: str) -> None:
    r = client.patch(
        f"/api/v1/tickets/{ticket_id}", headers=who.headers, json={"assignee_id": agent_id}
    )
    assert r.status_code == 200, r.get_json()


def _busy_day(app: Flask, client: FlaskClient) -> dict[str, Any]:
    """Three tickets on 2026-11-10: Ann answers in 60 s, Bob in 120 s and 300 s."""
    owner = f.signup(client)
    ann = f.add_agent(client, owner, name="Ann")
    bob = f.add_agent(client, owner, name="Bob")
    site = f.create_site(client, owner)
    made = []
    for agent, wait in ((ann, 60), (bob, 120), (bob, 300)):
        visitor = f.widget_session(client, site)
        ticket = f.start_ticket(client, visitor, "Help")
        _assign(client, owner, ticket["id"], agent.agent["id"])
        assert (
            f.send(client, agent.headers, ticket["id"], "note first", kind="note").status_code
            == 201
        )
        assert f.send(client, agent.headers, ticket["id"], "On it").status_code == 201
        history = client.get(f"/api/v1/tickets/{ticket['id']}/messages", headers=owner.headers)
        seqs = [m["seq"] for m in history.get_json()["messages"] if m["kind"] == "text"]
        _at(app, ticket["id"], DAY, {seqs[-1]: DAY + timedelta(seconds=wait)})
        made.append((visitor, ticket))
    _resolve(app, client, owner, made[0][1]["id"], DAY + timedelta(hours=1))
    _resolve(app, client, owner, made[1][1]["id"], DAY + timedelta(hours=3))
    _rate(app, client, made[0][0], made[0][1]["id"], 5)
    _rate(app, client, made[1][0], made[1][1]["id"], 2)
    return {"owner": owner, "ann": ann, "bob": bob, "site": site, "tickets": made}


def test_report_figures_for_a_day(app: Flask, client: FlaskClient) -> None:
    world = _busy_day(app, client)
    r = _report(client, world["owner"], "from=2026-11-09&to=2026-11-11")
    assert r.status_code == 200, r.get_json()
    report = r.get_json()
    assert report["from"] == "2026-11-09" and report["to"] == "2026-11-11"
    assert report["days"] == [
        {"date": "2026-11-09", "created": 0, "resolved": 0},
        {"date": "2026-11-10", "created": 3, "resolved": 2},
        {"date": "2026-11-11", "created": 0, "resolved": 0},
    ]
    assert report["first_response_s"] == {"median": 120, "p90": 300, "count": 3}
    assert report["resolution_s"] == {"median": 7200, "p90": 10800, "count": 2}
    assert report["csat"] == {
        "count": 2,
        "average": 3.5,
        "distribution": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1},
    }
    rows = {row["agent"]["name"]: row for row in report["agents"]}
    assert rows["Ann"]["assigned"] == 1 and rows["Ann"]["resolved"] == 1
    assert rows["Ann"]["first_response_s"] == {"median": 60, "p90": 60, "count": 1}
    assert rows["Ann"]["csat"]["average"] == 5.0
    assert rows["Bob"]["assigned"] == 2 and rows["Bob"]["resolved"] == 1
    assert rows["Bob"]["first_response_s"] == {"median": 210, "p90": 300, "count": 2}
    assert rows["Bob"]["resolution_s"]["median"] == 10800
    assert rows["Olive Owner"]["assigned"] == 0
    assert rows["Olive Owner"]["first_response_s"] == {"median": None, "p90": None, "count": 0}
    assert rows["Olive Owner"]["csat"]["average"] is None


def test_days_follow_the_time_zone(app: Flask, client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    ticket = f.start_ticket(client, f.widget_session(client, site))
    late = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)  # 00:30 on the 11th in Berlin
    _at(app, ticket["id"], late, {})
    utc = _report(client, owner, "from=2026-11-10&to=2026-11-11").get_json()
    assert [d["created"] for d in utc["days"]] == [1, 0]
    berlin = _report(client, owner, "from=2026-11-10&to=2026-11-11&tz=Europe/Berlin").get_json()
    assert [d["created"] for d in berlin["days"]] == [0, 1]


def test_an_empty_range_has_null_figures(client: FlaskClient) -> None:
    owner = f.signup(client)
    report = _report(client, owner, "from=2026-01-01&to=2026-01-01").get_json()
    assert report["days"] == [{"date": "2026-01-01", "created": 0, "resolved": 0}]
    assert report["first_response_s"] == {"median": None, "p90": None, "count": 0}
    assert report["resolution_s"]["median"] is None
    assert report["csat"]["average"] is None and report["csat"]["count"] == 0


def test_agents_see_totals_only_and_other_workspaces_nothing(
    app: Flask, client: FlaskClient
) -> None:
    world = _busy_day(app, client)
    mine = _report(client, world["ann"], "from=2026-11-10&to=2026-11-10").get_json()
    assert mine["first_response_s"]["count"] == 3
    assert mine["agents"] == []
    stranger = f.signup(client, workspace="Other")
    theirs = _report(client, stranger, "from=2026-11-10&to=2026-11-10").get_json()
    assert theirs["days"][0]["created"] == 0 and theirs["csat"]["count"] == 0
    assert [row["agent"]["name"] for row in theirs["agents"]] == ["Olive Owner"]


def test_report_by_site(app: Flask, client: FlaskClient) -> None:
    world = _busy_day(app, client)
    owner = world["owner"]
    other = f.create_site(client, owner, name="Blog")
    by_site = _report(client, owner, f"from=2026-11-10&to=2026-11-10&site_id={world['site']['id']}")
    assert by_site.get_json()["days"][0]["created"] == 3
    empty = _report(client, owner, f"from=2026-11-10&to=2026-11-10&site_id={other['id']}")
    assert empty.get_json()["days"][0]["created"] == 0
    assert empty.get_json()["csat"]["count"] == 0
    stranger = f.signup(client, workspace="Other")
    r = _report(client, stranger, f"from=2026-11-10&to=2026-11-10&site_id={other['id']}")
    f.assert_error(r, 404, "not_found")


def test_report_query_is_validated(client: FlaskClient) -> None:
    owner = f.signup(client)
    for query in (
        "",
        "from=2026-11-10",
        "from=2026-11-10&to=2026-11-09",
        "from=10/11/2026&to=2026-11-11",
        "from=2026-11-10&to=2026-11-11&tz=Mars/Base",
        "from=2025-01-01&to=2026-01-02",
        "from=2026-11-10&to=2026-11-11&site_id=nope",
        "from=2026-11-10&to=2026-11-11&extra=1",
    ):
        f.assert_error(_report(client, owner, query), 422, "invalid")
    assert _report(client, owner, "from=2025-01-01&to=2026-01-01").status_code == 200
    f.assert_error(client.get("/api/v1/reports?from=2026-11-10&to=2026-11-10"), 401, "unauthorized")


def test_a_figure_past_its_row_bound_says_truncated(
    app: Flask, client: FlaskClient, monkeypatch: Any
) -> None:
    from app.services import reports

    world = _busy_day(app, client)
    monkeypatch.setattr(reports, "MAX_REPORT_TICKETS", 2)
    report = _report(client, world["owner"], "from=2026-11-10&to=2026-11-10").get_json()
    assert report["truncated"] is True
    assert report["days"][0]["created"] == 2
    monkeypatch.setattr(reports, "MAX_REPORT_TICKETS", 3)
    assert (
        _report(client, world["owner"], "from=2026-11-10&to=2026-11-10").get_json()["truncated"]
        is False
    )
