"""Push subscription and webhook payloads."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.limits import DELIVERY_PAGE_MAX, MAX_URL_CHARS
from app.notifications.subscriptions import WEBHOOK_EVENTS
from app.schemas.base import HttpUrl, StrictSchema, Timestamp

_B64URL = r"^[A-Za-z0-9_-]+={0,2}$"


class VapidKeyOut(Schema):
    public_key = fields.String(required=True)


class PushKeysIn(StrictSchema):
    # An uncompressed P-256 point (65 bytes: 87 base64url characters) and a 16-byte secret.
    p256dh = fields.String(
        required=True, validate=[validate.Length(min=80, max=100), validate.Regexp(_B64URL)]
    )
    auth = fields.String(
        required=True, validate=[validate.Length(min=16, max=32), validate.Regexp(_B64URL)]
    )


class PushSubscriptionIn(StrictSchema):
    endpoint = HttpUrl(max_length=MAX_URL_CHARS, required=True)
    keys = fields.Nested(PushKeysIn, required=True)
    #: What the browser's PushSubscription.toJSON() also carries; accepted and ignored.
    expirationTime = fields.Raw(allow_none=True)  # noqa: N815


class PushUnsubscribeIn(StrictSchema):
    endpoint = HttpUrl(max_length=MAX_URL_CHARS, required=True)


class PushSubscriptionOut(Schema):
    id = fields.String(required=True)
    endpoint = fields.String(required=True)
    created_at = Timestamp(required=True)


class PushSubscriptionEnvelope(Schema):
    subscription = fields.Nested(PushSubscriptionOut, required=True)


class WebhookIn(StrictSchema):
    url = HttpUrl(max_length=MAX_URL_CHARS, required=True)
    events = fields.List(
        fields.String(validate=validate.OneOf(WEBHOOK_EVENTS)),
        required=True,
        validate=validate.Length(min=1, max=len(WEBHOOK_EVENTS)),
    )


class WebhookOut(Schema):
    id = fields.String(required=True)
    site_id = fields.String(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    #: The signing secret (webhooks are managed by owners and admins only).
    secret = fields.String(required=True)
    active = fields.Boolean(required=True)
    created_at = Timestamp(required=True)


class WebhookEnvelope(Schema):
    webhook = fields.Nested(WebhookOut, required=True)


class WebhookListOut(Schema):
    webhooks = fields.List(fields.Nested(WebhookOut), required=True)


class DeliveriesQuery(StrictSchema):
    limit = fields.Integer(validate=validate.Range(min=1, max=DELIVERY_PAGE_MAX))


class DeliveryOut(Schema):
    id = fields.String(required=True)
    event = fields.String(required=True)
    object_id = fields.String(required=True)
    status = fields.String(required=True)
    attempts = fields.Integer(required=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    next_attempt_at = Timestamp(allow_none=True)
    delivered_at = Timestamp(allow_none=True)
    created_at = Timestamp(required=True)


class DeliveryListOut(Schema):
    deliveries = fields.List(fields.Nested(DeliveryOut), required=True)
