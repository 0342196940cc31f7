"""Sites: create, list, read, update, origins and settings validation, the install snippet."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests import factories as f


def _post_site(client: FlaskClient, owner: f.Owner, **body: Any) -> Any:
    return client.post("/api/v1/sites", headers=owner.headers, json={"name": "Shop", **body})


def _patch_site(client: FlaskClient, owner: f.Owner, site_id: str, **body: Any) -> Any:
    return client.patch(f"/api/v1/sites/{site_id}", headers=owner.headers, json=body)


def test_create_site_returns_keys_secret_and_default_settings(client: FlaskClient) -> None:
    owner = f.signup(client)
    r = _post_site(client, owner, allowed_origins=["https://shop.example"])
    assert r.status_code == 201
    site = r.get_json()["site"]
    assert site["name"] == "Shop"
    assert site["allowed_origins"] == ["https://shop.example"]
    assert isinstance(site["site_key"], str) and site["site_key"]
    assert isinstance(site["site_secret"], str) and len(site["site_secret"]) >= 32
    assert site["site_key"] != site["site_secret"]
    assert set(site["settings"]) >= {
        "color",
        "title",
        "greeting",
        "position",
        "locale",
        "business_hours",
        "prechat_fields",
        "bot_enabled",
    }
    assert site["settings"]["bot_enabled"] is False


def test_each_site_gets_its_own_key_and_secret(client: FlaskClient) -> None:
    owner = f.signup(client)
    a = f.create_site(client, owner, name="A")
    b = f.create_site(client, owner, name="B")
    assert a["site_key"] != b["site_key"]
    assert a["site_secret"] != b["site_secret"]


def test_list_and_get_return_the_created_sites(client: FlaskClient) -> None:
    owner = f.signup(client)
    first = f.create_site(client, owner, name="First")
    second = f.create_site(client, owner, name="Second")
    r = client.get("/api/v1/sites", headers=owner.headers)
    assert r.status_code == 200
    assert [s["id"] for s in r.get_json()["sites"]] == [first["id"], second["id"]]
    r = client.get(f"/api/v1/sites/{second['id']}", headers=owner.headers)
    assert r.status_code == 200
    assert r.get_json()["site"]["name"] == "Second"
    assert r.get_json()["site"]["site_key"] == second["site_key"]


def test_patch_renames_site_and_replaces_origins(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner, origins=["https://old.example"])
    r = _patch_site(
        client, owner, site["id"], name="Renamed", allowed_origins=["https://new.example"]
    )
    assert r.status_code == 200
    assert r.get_json()["site"]["name"] == "Renamed"
    assert r.get_json()["site"]["allowed_origins"] == ["https://new.example"]
    again = client.get(f"/api/v1/sites/{site['id']}", headers=owner.headers).get_json()["site"]
    assert again["name"] == "Renamed"
    assert again["allowed_origins"] == ["https://new.example"]
    assert again["site_key"] == site["site_key"]


def test_site_secret_shown_to_owner_and_admin_not_to_agent(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    admin = f.add_agent(client, owner, role="admin")
    agent = f.add_agent(client, owner, role="agent")
    for who in (owner, admin):
        got = client.get(f"/api/v1/sites/{site['id']}", headers=who.headers).get_json()["site"]
        assert got["site_secret"] == site["site_secret"]
    got = client.get(f"/api/v1/sites/{site['id']}", headers=agent.headers).get_json()["site"]
    assert "site_secret" not in got
    assert got["site_key"] == site["site_key"]
    listed = client.get("/api/v1/sites", headers=agent.headers).get_json()["sites"]
    assert listed and all("site_secret" not in s for s in listed)
    assert site["site_secret"] not in client.get("/api/v1/sites", headers=agent.headers).get_data(
        as_text=True
    )


def test_agent_role_cannot_patch_a_site(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    agent = f.add_agent(client, owner, role="agent")
    f.assert_error(_patch_site(client, agent, site["id"], name="Mine now"), 403, "forbidden")
    got = client.get(f"/api/v1/sites/{site['id']}", headers=owner.headers).get_json()["site"]
    assert got["name"] == site["name"]


@pytest.mark.parametrize(
    "origin",
    [
        "example.com",
        "ftp://x.com",
        "https://x.com/path",
        "https://user:pw@x.com",
        "https://x.com?q=1",
        "https://x.com#frag",
        "https://",
        "*",
        "javascript:alert(1)",
    ],
)
def test_allowed_origins_rejects_what_is_not_an_origin(client: FlaskClient, origin: str) -> None:
    owner = f.signup(client)
    error = f.assert_error(_post_site(client, owner, allowed_origins=[origin]), 422, "invalid")
    assert "allowed_origins" in error["fields"]
    site = f.create_site(client, owner)
    r = _patch_site(client, owner, site["id"], allowed_origins=["https://ok.example", origin])
    error = f.assert_error(r, 422, "invalid")
    assert "allowed_origins" in error["fields"]
    got = client.get(f"/api/v1/sites/{site['id']}", headers=owner.headers).get_json()["site"]
    assert got["allowed_origins"] == site["allowed_origins"]


def test_allowed_origins_are_normalised_and_keep_non_default_ports(client: FlaskClient) -> None:
    owner = f.signup(client)
    r = _post_site(
        client,
        owner,
        allowed_origins=[
            "https://Example.com:443/",
            "http://LOCALHOST:8080",
            "http://shop.example:80",
            "https://example.com",
        ],
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["site"]["allowed_origins"] == [
        "https://example.com",
        "http://localhost:8080",
        "http://shop.example",
    ]


def test_allowed_origins_must_be_a_list_of_strings(client: FlaskClient) -> None:
    owner = f.signup(client)
    for value in ("https://x.com", [1], [None], {"a": "b"}):
        error = f.assert_error(_post_site(client, owner, allowed_origins=value), 422, "invalid")
        assert "allowed_origins" in error["fields"]


def _hours(span: dict[str, str], day: str = "mon", zone: str = "Europe/Paris") -> dict[str, Any]:
    return {"business_hours": {"timezone": zone, "days": {day: [span]}}}


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"color": "red"}, id="colour-name"),
        pytest.param({"color": "#12345"}, id="colour-short"),
        pytest.param({"position": "middle"}, id="position"),
        pytest.param({"shape": "round"}, id="unknown-key"),
        pytest.param({"bot_enabled": "sometimes"}, id="bot-enabled"),
        pytest.param(_hours({"open": "09:00", "close": "17:00"}, zone="Mars/Olympus"), id="zone"),
        pytest.param(_hours({"open": "17:00", "close": "09:00"}), id="open-after-close"),
        pytest.param(_hours({"open": "09:00", "close": "09:00"}), id="open-equals-close"),
        pytest.param(_hours({"open": "09:00", "close": "17:00"}, day="funday"), id="weekday"),
        pytest.param(_hours({"open": "9", "close": "17:00"}), id="time-format"),
        pytest.param(_hours({"open": "09:00", "close": "24:00"}), id="time-range"),
        pytest.param({"prechat_fields": [{"name": "Bad Name", "label": "x"}]}, id="prechat"),
        pytest.param(
            {"prechat_fields": [{"name": "email", "label": "E-mail", "type": "text"}]},
            id="prechat-email-as-text",
        ),
        pytest.param(
            {
                "prechat_fields": [
                    {"name": "company", "label": "A"},
                    {"name": "company", "label": "B"},
                ]
            },
            id="prechat-duplicate-name",
        ),
        pytest.param(
            {"prechat_fields": [{"name": f"f{i}", "label": "x"} for i in range(11)]},
            id="prechat-too-many",
        ),
    ],
)
def test_invalid_settings_are_rejected_with_field_errors(
    client: FlaskClient, settings: dict[str, Any]
) -> None:
    owner = f.signup(client)
    error = f.assert_error(_post_site(client, owner, settings=settings), 422, "invalid")
    assert "settings" in error["fields"]
    site = f.create_site(client, owner)
    error = f.assert_error(
        _patch_site(client, owner, site["id"], settings=settings), 422, "invalid"
    )
    assert "settings" in error["fields"]
    got = client.get(f"/api/v1/sites/{site['id']}", headers=owner.headers).get_json()["site"]
    assert got["settings"] == site["settings"]


def test_settings_errors_name_the_offending_field(client: FlaskClient) -> None:
    owner = f.signup(client)
    r = _post_site(client, owner, settings={"color": "red", "shape": "round"})
    fields = f.assert_error(r, 422, "invalid")["fields"]["settings"]
    assert "color" in fields
    assert "shape" in fields
    hours = {
        "timezone": "Nowhere/Special",
        "days": {"tue": [{"open": "18:00", "close": "08:00"}]},
    }
    r = _post_site(client, owner, settings={"business_hours": hours})
    fields = f.assert_error(r, 422, "invalid")["fields"]["settings"]["business_hours"]
    assert "timezone" in fields
    assert "days" in fields


def test_valid_business_hours_are_stored(client: FlaskClient) -> None:
    owner = f.signup(client)
    hours = {
        "timezone": "America/New_York",
        "days": {"mon": [{"open": "09:00", "close": "12:00"}, {"open": "13:00", "close": "17:30"}]},
    }
    site = f.create_site(client, owner, business_hours=hours)
    assert site["settings"]["business_hours"] == hours


def test_settings_patch_merges_with_stored_settings(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner, color="#112233", title="Talk to us")
    r = _patch_site(client, owner, site["id"], settings={"greeting": "Hello there"})
    assert r.status_code == 200
    settings = r.get_json()["site"]["settings"]
    assert settings["color"] == "#112233"
    assert settings["title"] == "Talk to us"
    assert settings["greeting"] == "Hello there"
    r = _patch_site(client, owner, site["id"], settings={"color": "#abcdef"})
    settings = r.get_json()["site"]["settings"]
    assert settings["color"] == "#abcdef"
    assert settings["title"] == "Talk to us"
    assert settings["greeting"] == "Hello there"
    got = client.get(f"/api/v1/sites/{site['id']}", headers=owner.headers).get_json()["site"]
    assert got["settings"] == settings


def test_patch_without_settings_keeps_them(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner, color="#010203", bot_enabled=True)
    r = _patch_site(client, owner, site["id"], name="Just a rename")
    assert r.get_json()["site"]["settings"]["color"] == "#010203"
    assert r.get_json()["site"]["settings"]["bot_enabled"] is True


def test_install_snippet_has_site_key_and_widget_script(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    r = client.get(f"/api/v1/sites/{site['id']}/install", headers=owner.headers)
    assert r.status_code == 200
    snippet = r.get_json()["snippet"]
    assert snippet.startswith("<script ")
    assert snippet.endswith("</script>")
    assert 'src="http://parley.test/widget.js"' in snippet
    assert f'data-site-key="{site["site_key"]}"' in snippet
    assert " async" in snippet


def test_install_snippet_is_html_escaped(app: Flask, client: FlaskClient) -> None:
    app.config["PUBLIC_URL"] = 'https://cdn.example/a?x=1&y="2"><img src=x onerror=alert(1)>'
    owner = f.signup(client)
    site = f.create_site(client, owner)
    snippet = client.get(f"/api/v1/sites/{site['id']}/install", headers=owner.headers).get_json()[
        "snippet"
    ]
    assert "<img" not in snippet
    assert '"><' not in snippet
    assert "&amp;y=&quot;2&quot;&gt;&lt;img" in snippet
    assert snippet.count("<") == 2  # <script ...> and </script>
    assert snippet.count('"') == 4  # src="..." and data-site-key="..."


def test_site_of_another_workspace_is_not_found(client: FlaskClient) -> None:
    mine = f.signup(client, workspace="Mine")
    theirs = f.signup(client, workspace="Theirs")
    their_site = f.create_site(client, theirs, name="Their site")
    url = f"/api/v1/sites/{their_site['id']}"
    f.assert_error(client.get(url, headers=mine.headers), 404, "not_found")
    f.assert_error(_patch_site(client, mine, their_site["id"], name="Stolen"), 404, "not_found")
    f.assert_error(client.get(f"{url}/install", headers=mine.headers), 404, "not_found")
    assert client.get("/api/v1/sites", headers=mine.headers).get_json()["sites"] == []
    got = client.get(url, headers=theirs.headers).get_json()["site"]
    assert got["name"] == "Their site"


def test_unknown_site_is_not_found(client: FlaskClient) -> None:
    owner = f.signup(client)
    for site_id in ("0" * 26, "nope", "x" * 300, "%00", "..%2F..%2Fetc"):
        f.assert_error(
            client.get(f"/api/v1/sites/{site_id}", headers=owner.headers), 404, "not_found"
        )
        f.assert_error(_patch_site(client, owner, site_id, name="X"), 404, "not_found")


def test_site_name_is_required_and_trimmed(client: FlaskClient) -> None:
    owner = f.signup(client)
    error = f.assert_error(
        client.post("/api/v1/sites", headers=owner.headers, json={}), 422, "invalid"
    )
    assert "name" in error["fields"]
    f.assert_error(_post_site(client, owner, name="   "), 422, "invalid")
    r = _post_site(client, owner, name="  Padded  ")
    assert r.get_json()["site"]["name"] == "Padded"
