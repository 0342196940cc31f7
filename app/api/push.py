"""Web push: the VAPID public key and the caller's push subscriptions."""

from __future__ import annotations

from flask import Response

from app.api import EndpointDoc, endpoint, json_body, reply
from app.auth.web import current_principal
from app.notifications import subscriptions, webpush
from app.schemas.notifications import (
    PushSubscriptionEnvelope,
    PushSubscriptionIn,
    PushUnsubscribeIn,
    VapidKeyOut,
)


@endpoint(
    "/push/vapid-public-key",
    "GET",
    EndpointDoc(
        "The VAPID public key browsers subscribe with (applicationServerKey)",
        "push",
        auth="none",
        response=VapidKeyOut,
    ),
)
def vapid_public_key() -> tuple[Response, int]:
    return reply(VapidKeyOut(), {"public_key": webpush.public_key()})


@endpoint(
    "/push/subscriptions",
    "POST",
    EndpointDoc(
        "Store the caller's browser push subscription (agent or visitor)",
        "push",
        auth="agent_or_visitor",
        body=PushSubscriptionIn,
        response=PushSubscriptionEnvelope,
        status=201,
        errors=(401, 422),
    ),
)
def subscribe() -> tuple[Response, int]:
    principal = current_principal(visitors=True)
    data = json_body(PushSubscriptionIn())
    sub = subscriptions.subscribe_push(
        principal, data["endpoint"], data["keys"]["p256dh"], data["keys"]["auth"]
    )
    return reply(PushSubscriptionEnvelope(), {"subscription": sub}, 201)


@endpoint(
    "/push/subscriptions",
    "DELETE",
    EndpointDoc(
        "Forget the caller's push subscription with this endpoint",
        "push",
        auth="agent_or_visitor",
        body=PushUnsubscribeIn,
        response=None,
        errors=(401, 422),
    ),
)
def unsubscribe() -> tuple[Response, int]:
    principal = current_principal(visitors=True)
    data = json_body(PushUnsubscribeIn())
    subscriptions.unsubscribe_push(principal, data["endpoint"])
    return Response(status=204), 204
