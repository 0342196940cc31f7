"""Ticket search (GET /tickets?q=), the visitor panel (GET /visitors/{id}) and a site's
installed_at."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests import factories as f


def _search(client: FlaskClient, headers: dict[str, str], q: str, extra: str = "") -> list[str]:
    r = client.get("/api/v1/tickets", headers=headers, query_string=f"q={q}{extra}")
    assert r.status_code == 200, r.get_json()
    return [t["id"] for t in r.get_json()["tickets"]]


def _named_ticket(
    client: FlaskClient, site: dict[str, Any], name: str, email: str, body: str
) -> tuple[f.VisitorSession, dict[str, Any]]:
    visitor = f.widget_session(client, site)
    r = client.patch(
        "/api/v1/widget/visitor", headers=visitor.headers, json={"name": name, "email": email}
    )
    assert r.status_code == 200, r.get_json()
    return visitor, f.start_ticket(client, visitor, body)


def test_search_by_visitor_name_email_id_and_message_text(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    _, grace = _named_ticket(client, site, "Grace Hopper", "grace@navy.example", "My order")
    _, alan = _named_ticket(client, site, "Alan Turing", "alan@bletchley.example", "Refund?")
    assert _search(client, owner.headers, "hopper") == [grace["id"]]
    assert _search(client, owner.headers, "BLETCHLEY") == [alan["id"]]
    assert _search(client, owner.headers, "refund") == [alan["id"]]
    assert _search(client, owner.headers, grace["id"]) == [grace["id"]]
    assert _search(client, owner.headers, grace["id"].upper()) == [grace["id"]]
    assert _search(client, owner.headers, "nothing-like-this") == []
    # Newest activity first, and the other filters still apply.
    f.send(client, owner.headers, grace["id"], "Your order ships today")
    assert _search(client, owner.headers, "order") == [grace["id"]]
    assert _search(client, owner.headers, "example") == [grace["id"], alan["id"]]
    assert _search(client, owner.headers, "example", "&limit=1") == [grace["id"]]
    r = client.patch(
        f"/api/v1/tickets/{alan['id']}", headers=owner.headers, json={"status": "resolved"}
    )
    assert r.status_code == 200
    assert _search(client, owner.headers, "example", "&status=resolved") == [alan["id"]]


def test_search_pages_with_the_cursor(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    made = [
        f.start_ticket(client, f.widget_session(client, site), f"Shipping {i}") for i in range(3)
    ]
    first = client.get("/api/v1/tickets?q=shipping&limit=2", headers=owner.headers).get_json()
    assert len(first["tickets"]) == 2 and first["next_cursor"]
    rest = client.get(
        f"/api/v1/tickets?q=shipping&limit=2&cursor={first['next_cursor']}",
        headers=owner.headers,
    ).get_json()
    seen = [t["id"] for t in first["tickets"] + rest["tickets"]]
    assert sorted(seen) == sorted(t["id"] for t in made)
    assert rest["next_cursor"] is None


def test_search_takes_wildcards_literally(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    plain = f.start_ticket(client, f.widget_session(client, site), "Plain words")
    percent = f.start_ticket(client, f.widget_session(client, site), "Got 50% off")
    # Message text is searched by whole words (bodies are encrypted at rest): punctuation
    # is no word, so "%" alone no longer finds "50%"; visitor names and e-mails still match
    # substrings, with LIKE's wildcards taken literally.
    assert _search(client, owner.headers, "50%25") == [percent["id"]]
    assert _search(client, owner.headers, "%25") == []
    assert _search(client, owner.headers, "_") == []
    assert plain["id"] not in _search(client, owner.headers, "0%25")
    _, named = _named_ticket(client, site, "Ann", "ann_50%@example.com", "Hi")
    assert _search(client, owner.headers, "n_50%25") == [named["id"]]
    assert _search(client, owner.headers, "n_5%25@") == []


def test_search_matches_whole_words_in_one_message(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    ticket = f.start_ticket(client, visitor, "Mein Café hat die Bestellung ORD-1234 nicht")
    f.send(client, owner.headers, ticket["id"], "Refund issued today")
    assert _search(client, owner.headers, "cafe") == [ticket["id"]]  # accents and case
    assert _search(client, owner.headers, "CAFÉ ord-1234") == [ticket["id"]]
    assert _search(client, owner.headers, "refund") == [ticket["id"]]
    assert _search(client, owner.headers, "bestell") == []  # no prefix matching
    # Every word in the same message: "refund" and "cafe" are in two different ones.
    assert _search(client, owner.headers, "refund cafe") == []


def test_notes_are_searched_for_agents_but_never_for_visitors(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor, ticket = _named_ticket(client, site, "Vic", "vic@example.com", "Hello")
    f.send(client, owner.headers, ticket["id"], "vip customer, be nice", kind="note")
    f.send(client, owner.headers, ticket["id"], "Welcome back!")
    assert _search(client, owner.headers, "vip customer") == [ticket["id"]]
    assert _search(client, visitor.headers, "vip customer") == []
    assert _search(client, visitor.headers, "welcome back") == [ticket["id"]]


def test_search_stays_in_the_workspace(client: FlaskClient) -> None:
    owner = f.signup(client)
    stranger = f.signup(client, workspace="Other")
    site = f.create_site(client, owner)
    _, ticket = _named_ticket(client, site, "Secret Sam", "sam@example.com", "confidential")
    assert _search(client, stranger.headers, "confidential") == []
    assert _search(client, stranger.headers, "sam") == []
    assert _search(client, stranger.headers, ticket["id"]) == []


def test_search_text_is_bounded(client: FlaskClient) -> None:
    owner = f.signup(client)
    r = client.get("/api/v1/tickets", headers=owner.headers, query_string={"q": "x" * 201})
    f.assert_error(r, 422, "invalid")
    r = client.get("/api/v1/tickets", headers=owner.headers, query_string={"q": "x" * 200})
    assert r.status_code == 200
    r = client.get("/api/v1/tickets", headers=owner.headers, query_string={"q": "   "})
    f.assert_error(r, 422, "invalid")


# -- the visitor panel ----------------------------------------------------------------------------


def test_visitor_panel_shows_browser_first_seen_and_earlier_tickets(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor, first = _named_ticket(client, site, "Ada", "ada@example.com", "First question")
    r = client.patch(
        f"/api/v1/tickets/{first['id']}", headers=owner.headers, json={"status": "resolved"}
    )
    assert r.status_code == 200
    browser = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"
    r = client.post(
        "/api/v1/widget/session",
        json={
            "site_key": site["site_key"],
            "visitor_token": visitor.token,
            "page": {"url": "https://shop.example/cart", "title": "Cart"},
        },
        headers={"User-Agent": browser},
    )
    assert r.status_code == 200
    second = f.start_ticket(client, visitor, "Second question")
    r = client.get(f"/api/v1/visitors/{visitor.visitor['id']}", headers=owner.headers)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    shown = body["visitor"]
    assert shown["name"] == "Ada" and shown["email"] == "ada@example.com"
    assert shown["user_agent"] == browser
    assert shown["current_url"] == "https://shop.example/cart"
    assert shown["page_title"] == "Cart"
    assert shown["first_seen_at"].endswith("Z")
    assert shown["status"] in ("online", "away", "offline")
    assert [t["id"] for t in body["tickets"]] == [second["id"], first["id"]]
    assert body["tickets"][1]["status"] == "resolved"


def test_visitor_panel_is_for_agents_of_the_workspace(client: FlaskClient) -> None:
    owner = f.signup(client)
    stranger = f.signup(client, workspace="Other")
    site = f.create_site(client, owner)
    visitor, _ = _named_ticket(client, site, "Ada", "ada@example.com", "Hi")
    url = f"/api/v1/visitors/{visitor.visitor['id']}"
    f.assert_error(client.get(url, headers=stranger.headers), 404, "not_found")
    f.assert_error(client.get("/api/v1/visitors/nope", headers=owner.headers), 404, "not_found")
    f.assert_error(client.get(url), 401, "unauthorized")
    assert client.get(url, headers=visitor.headers).status_code in (401, 403)


# -- widget installed -----------------------------------------------------------------------------


def test_site_installed_at_is_set_by_the_first_widget_session(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    assert site["installed"] is False and site["installed_at"] is None
    visitor = f.widget_session(client, site)
    shown = client.get("/api/v1/sites", headers=owner.headers).get_json()["sites"][0]
    assert shown["installed"] is True
    first = shown["installed_at"]
    assert first.endswith("Z")
    f.widget_session(client, site, token=visitor.token)
    f.widget_session(client, site)
    again = client.get("/api/v1/sites", headers=owner.headers).get_json()["sites"][0]
    assert again["installed_at"] == first


def test_visitor_panel_lists_a_bounded_number_of_tickets(
    client: FlaskClient, monkeypatch: Any
) -> None:
    from app.services import visitors

    monkeypatch.setattr(visitors, "VISITOR_PANEL_TICKETS", 1)
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor, first = _named_ticket(client, site, "Ada", "ada@example.com", "One")
    client.patch(
        f"/api/v1/tickets/{first['id']}", headers=owner.headers, json={"status": "resolved"}
    )
    second = f.start_ticket(client, visitor, "Two")
    body = client.get(f"/api/v1/visitors/{visitor.visitor['id']}", headers=owner.headers).get_json()
    assert [t["id"] for t in body["tickets"]] == [second["id"]]
