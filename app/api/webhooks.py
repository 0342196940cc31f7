"""Outgoing webhooks of a site and their delivery log (owners and admins)."""

from __future__ import annotations

from flask import Response

from app.api import EndpointDoc, endpoint, json_body, query_args, reply
from app.auth.web import current_principal
from app.limits import DELIVERY_PAGE_MAX
from app.notifications import subscriptions
from app.schemas.notifications import (
    DeliveriesQuery,
    DeliveryListOut,
    WebhookEnvelope,
    WebhookIn,
    WebhookListOut,
)


@endpoint(
    "/sites/<site_id>/webhooks",
    "POST",
    EndpointDoc(
        "Add a webhook; deliveries are signed with its secret (X-Parley-Signature)",
        "webhooks",
        auth="manager",
        body=WebhookIn,
        response=WebhookEnvelope,
        status=201,
        errors=(401, 403, 404, 422),
    ),
)
def create_webhook(site_id: str) -> tuple[Response, int]:
    principal = current_principal()
    data = json_body(WebhookIn())
    webhook = subscriptions.create_webhook(principal, site_id, data["url"], data["events"])
    return reply(WebhookEnvelope(), {"webhook": subscriptions.webhook_view(webhook)}, 201)


@endpoint(
    "/sites/<site_id>/webhooks",
    "GET",
    EndpointDoc(
        "A site's webhooks",
        "webhooks",
        auth="manager",
        response=WebhookListOut,
        errors=(401, 403, 404),
    ),
)
def list_webhooks(site_id: str) -> tuple[Response, int]:
    principal = current_principal()
    hooks = subscriptions.list_webhooks(principal, site_id)
    return reply(WebhookListOut(), {"webhooks": [subscriptions.webhook_view(h) for h in hooks]})


@endpoint(
    "/sites/<site_id>/webhooks/<webhook_id>",
    "DELETE",
    EndpointDoc(
        "Remove a webhook and its delivery log",
        "webhooks",
        auth="manager",
        response=None,
        errors=(401, 403, 404),
    ),
)
def delete_webhook(site_id: str, webhook_id: str) -> tuple[Response, int]:
    subscriptions.delete_webhook(current_principal(), site_id, webhook_id)
    return Response(status=204), 204


@endpoint(
    "/sites/<site_id>/webhooks/<webhook_id>/deliveries",
    "GET",
    EndpointDoc(
        "A webhook's newest deliveries: event, status, attempts, last answer",
        "webhooks",
        auth="manager",
        query=DeliveriesQuery,
        response=DeliveryListOut,
        errors=(401, 403, 404),
    ),
)
def list_deliveries(site_id: str, webhook_id: str) -> tuple[Response, int]:
    principal = current_principal()
    args = query_args(DeliveriesQuery())
    rows = subscriptions.list_deliveries(
        principal, site_id, webhook_id, args.get("limit", DELIVERY_PAGE_MAX)
    )
    return reply(DeliveryListOut(), {"deliveries": rows})
