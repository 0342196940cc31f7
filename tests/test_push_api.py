"""The push endpoints: the VAPID key, subscribing and unsubscribing (agents and visitors)."""

from __future__ import annotations

import base64

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.limits import MAX_PUSH_SUBSCRIPTIONS
from app.models import PushSubscription
from tests import factories as f
from tests.pushstub import PushStub


def _subs(app: Flask) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(
                PushSubscription.subject_type,
                PushSubscription.subject_id,
                PushSubscription.endpoint,
            )
        ).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_vapid_public_key_is_an_uncompressed_p256_point(client: FlaskClient) -> None:
    r = client.get("/api/v1/push/vapid-public-key")
    assert r.status_code == 200
    key = r.get_json()["public_key"]
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(raw) == 65 and raw[0] == 4
    assert client.get("/api/v1/push/vapid-public-key").get_json()["public_key"] == key


def test_configured_vapid_key_is_the_one_served(database_url: str) -> None:
    from app import create_app

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
            "VAPID_PRIVATE_KEY": "3IiwMB0UhXAC_b-a3zdPsodRnWSCwIAyZ5uJ7DJK6Ck",
        }
    )
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    scalar = int.from_bytes(
        base64.urlsafe_b64decode("3IiwMB0UhXAC_b-a3zdPsodRnWSCwIAyZ5uJ7DJK6Ck=")
    )
    expected = (
        ec.derive_private_key(scalar, ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    key = app.test_client().get("/api/v1/push/vapid-public-key").get_json()["public_key"]
    assert base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)) == expected


def test_agent_and_visitor_subscribe_and_unsubscribe(app: Flask, client: FlaskClient) -> None:
    app.config["PUSH_ALLOW_PRIVATE"] = True
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    f.start_ticket(client, visitor)
    with PushStub() as stub:
        a, v = stub.subscriber(), stub.subscriber()
        r = client.post("/api/v1/push/subscriptions", headers=owner.headers, json=a.subscription)
        assert r.status_code == 201, r.get_json()
        assert r.get_json()["subscription"]["endpoint"] == a.endpoint
        body = {**v.subscription, "expirationTime": None}
        r = client.post("/api/v1/push/subscriptions", headers=visitor.headers, json=body)
        assert r.status_code == 201, r.get_json()
        assert sorted(_subs(app)) == sorted(
            [
                ("agent", owner.agent["id"], a.endpoint),
                ("visitor", visitor.visitor["id"], v.endpoint),
            ]
        )
        # Someone else's endpoint is not theirs to delete.
        r = client.delete(
            "/api/v1/push/subscriptions", headers=visitor.headers, json={"endpoint": a.endpoint}
        )
        assert r.status_code == 204
        assert len(_subs(app)) == 2
        r = client.delete(
            "/api/v1/push/subscriptions", headers=owner.headers, json={"endpoint": a.endpoint}
        )
        assert r.status_code == 204
        assert _subs(app) == [("visitor", visitor.visitor["id"], v.endpoint)]


def test_subscribing_the_same_endpoint_again_moves_it_to_the_caller(
    app: Flask, client: FlaskClient
) -> None:
    app.config["PUSH_ALLOW_PRIVATE"] = True
    owner = f.signup(client)
    colleague = f.add_agent(client, owner)
    with PushStub() as stub:
        sub = stub.subscriber()
        for who in (owner, colleague):
            r = client.post(
                "/api/v1/push/subscriptions", headers=who.headers, json=sub.subscription
            )
            assert r.status_code == 201
    assert _subs(app) == [("agent", colleague.agent["id"], sub.endpoint)]


def test_subscription_needs_credentials_and_valid_keys(app: Flask, client: FlaskClient) -> None:
    app.config["PUSH_ALLOW_PRIVATE"] = True
    owner = f.signup(client)
    with PushStub() as stub:
        good = stub.subscriber().subscription
    f.assert_error(client.post("/api/v1/push/subscriptions", json=good), 401, "unauthorized")
    bad_bodies = [
        {"endpoint": good["endpoint"]},
        {**good, "keys": {"p256dh": "not base64!", "auth": good["keys"]["auth"]}},
        {**good, "keys": {"p256dh": good["keys"]["p256dh"], "auth": "x"}},
        {**good, "endpoint": "ftp://push.example/x"},
        {**good, "surprise": 1},
    ]
    for body in bad_bodies:
        r = client.post("/api/v1/push/subscriptions", headers=owner.headers, json=body)
        f.assert_error(r, 422, "invalid")
    assert _subs(app) == []


def test_push_endpoint_on_a_private_address_is_refused(app: Flask, client: FlaskClient) -> None:
    owner = f.signup(client)
    with PushStub() as stub:
        sub = stub.subscriber().subscription
    for endpoint in (sub["endpoint"], "https://10.1.2.3/push/x", "https://localhost/push/x"):
        r = client.post(
            "/api/v1/push/subscriptions", headers=owner.headers, json={**sub, "endpoint": endpoint}
        )
        body = f.assert_error(r, 422, "invalid")
        assert "endpoint" in body["fields"]
    assert _subs(app) == []


def test_subscriptions_per_person_are_capped_oldest_first(app: Flask, client: FlaskClient) -> None:
    app.config["PUSH_ALLOW_PRIVATE"] = True
    owner = f.signup(client)
    with PushStub() as stub:
        subs = [stub.subscriber() for _ in range(MAX_PUSH_SUBSCRIPTIONS + 1)]
        for sub in subs:
            r = client.post(
                "/api/v1/push/subscriptions", headers=owner.headers, json=sub.subscription
            )
            assert r.status_code == 201
    kept = {endpoint for _, _, endpoint in _subs(app)}
    assert len(kept) == MAX_PUSH_SUBSCRIPTIONS
    assert subs[0].endpoint not in kept and subs[-1].endpoint in kept
