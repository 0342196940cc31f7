"""The site's knowledge base (FAQ) and the bot's decision, over REST."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from app.api import EndpointDoc, endpoint, json_body, reply
from app.auth.principal import system_principal
from app.auth.web import current_principal
from app.bot.decision import Decision
from app.errors import Invalid, TooLarge
from app.limits import MAX_FAQ_IMPORT_BYTES
from app.schemas.base import load
from app.schemas.faq import (
    BotAskIn,
    BotAskOut,
    BotCalibrateIn,
    BotReplyIn,
    BotReplyOut,
    BotSettingsIn,
    BotSettingsOut,
    BotWebhookIn,
    BotWebhookOut,
    FaqEnvelope,
    FaqImportIn,
    FaqImportOut,
    FaqIn,
    FaqListOut,
)
from app.services import bot, bot_webhook, faq
from app.services.views import ticket_view


@endpoint(
    "/sites/<site_id>/faq",
    "GET",
    EndpointDoc("The site's FAQ entries", "bot", response=FaqListOut, errors=(401, 403, 404)),
)
def list_faq(site_id: str) -> tuple[Response, int]:
    entries = faq.list_faq(current_principal(), site_id)
    return reply(FaqListOut(), {"entries": entries})


@endpoint(
    "/sites/<site_id>/faq",
    "POST",
    EndpointDoc(
        "Add an FAQ entry (owners and admins)",
        "bot",
        auth="manager",
        body=FaqIn,
        response=FaqEnvelope,
        status=201,
        errors=(401, 403, 404, 409, 422),
    ),
)
def create_faq(site_id: str) -> tuple[Response, int]:
    entry = faq.create_faq(current_principal(), site_id, json_body(FaqIn()))
    return reply(FaqEnvelope(), {"entry": entry}, 201)


@endpoint(
    "/sites/<site_id>/faq/<faq_id>",
    "PUT",
    EndpointDoc(
        "Replace an FAQ entry (owners and admins)",
        "bot",
        auth="manager",
        body=FaqIn,
        response=FaqEnvelope,
        errors=(401, 403, 404, 409, 422),
    ),
)
def update_faq(site_id: str, faq_id: str) -> tuple[Response, int]:
    entry = faq.update_faq(current_principal(), site_id, faq_id, json_body(FaqIn()))
    return reply(FaqEnvelope(), {"entry": entry})


@endpoint(
    "/sites/<site_id>/faq/<faq_id>",
    "DELETE",
    EndpointDoc(
        "Delete an FAQ entry (owners and admins)",
        "bot",
        auth="manager",
        status=204,
        errors=(401, 403, 404),
    ),
)
def delete_faq(site_id: str, faq_id: str) -> tuple[Response, int]:
    faq.delete_faq(current_principal(), site_id, faq_id)
    return Response(status=204), 204


@endpoint(
    "/sites/<site_id>/faq/import",
    "POST",
    EndpointDoc(
        "Import FAQ entries: a JSON list, or CSV (text/csv: question,answer,alternatives,"
        "external_id; alternatives separated by |). An existing external_id is replaced.",
        "bot",
        auth="manager",
        body=FaqIn,
        body_is_list=True,
        response=FaqImportOut,
        errors=(401, 403, 404, 413, 422),
    ),
)
def import_faq(site_id: str) -> tuple[Response, int]:
    principal = current_principal()
    # An import may be larger than other requests (MAX_REQUEST_BYTES): raise the cap here.
    request.max_content_length = MAX_FAQ_IMPORT_BYTES
    if (request.content_length or 0) > MAX_FAQ_IMPORT_BYTES:
        raise TooLarge(f"An import is at most {MAX_FAQ_IMPORT_BYTES} bytes.")
    if request.mimetype == "text/csv":
        rows: Any = faq.parse_faq_csv(request.get_data(cache=True))
    else:
        rows = json_body()
        if not isinstance(rows, list):
            raise Invalid("Send a JSON list of entries (or text/csv).")
    data = load(FaqImportIn(), {"entries": rows})
    created, updated, entries = faq.import_faq(principal, site_id, data["entries"])
    return reply(FaqImportOut(), {"created": created, "updated": updated, "entries": entries})


@endpoint(
    "/sites/<site_id>/bot/ask",
    "POST",
    EndpointDoc(
        "What the bot would answer to a message: the same decision as in a live chat",
        "bot",
        body=BotAskIn,
        response=BotAskOut,
        errors=(401, 403, 404, 422),
    ),
)
def ask(site_id: str) -> tuple[Response, int]:
    data = json_body(BotAskIn())
    decision = bot.ask_bot(current_principal(), site_id, data["text"])
    return reply(BotAskOut(), ask_json(decision))


def ask_json(decision: Decision) -> dict[str, Any]:
    """The contract's ``{handoff: false, faq_id, ...}`` or ``{handoff: true, reason, ...}``."""
    match = decision.match
    return {
        "handoff": decision.handoff,
        "reason": decision.reason,
        "faq_id": match.entry.id if match else None,
        "external_id": match.entry.external_id if match else None,
        "answer": match.entry.answer if match else None,
        "confidence": decision.confidence,
        "suggestions": [
            {
                "faq_id": s.entry.id,
                "external_id": s.entry.external_id,
                "question": s.entry.question,
                "confidence": round(s.score, 4),
            }
            for s in decision.suggestions
        ],
    }


@endpoint(
    "/sites/<site_id>/bot/settings",
    "GET",
    EndpointDoc(
        "The site's bot thresholds (its own, or the defaults)",
        "bot",
        response=BotSettingsOut,
        errors=(401, 403, 404),
    ),
)
def get_bot_settings(site_id: str) -> tuple[Response, int]:
    return reply(BotSettingsOut(), bot.get_bot_settings(current_principal(), site_id))


@endpoint(
    "/sites/<site_id>/bot/settings",
    "PUT",
    EndpointDoc(
        "Set the site's bot thresholds by hand (owners and admins)",
        "bot",
        auth="manager",
        body=BotSettingsIn,
        response=BotSettingsOut,
        errors=(401, 403, 404, 422),
    ),
)
def put_bot_settings(site_id: str) -> tuple[Response, int]:
    view = bot.update_bot_settings(current_principal(), site_id, json_body(BotSettingsIn()))
    return reply(BotSettingsOut(), view)


@endpoint(
    "/sites/<site_id>/bot/calibrate",
    "POST",
    EndpointDoc(
        "Calibrate and store the site's thresholds on labelled messages, within a wrong-answer "
        "budget (owners and admins)",
        "bot",
        auth="manager",
        body=BotCalibrateIn,
        response=BotSettingsOut,
        errors=(401, 403, 404, 422),
    ),
)
def calibrate(site_id: str) -> tuple[Response, int]:
    data = json_body(BotCalibrateIn())
    view = bot.calibrate_bot(
        current_principal(), site_id, data["messages"], data["wrong_answer_budget"]
    )
    return reply(BotSettingsOut(), view)


@endpoint(
    "/sites/<site_id>/bot/webhook",
    "GET",
    EndpointDoc(
        "The site's bring-your-own bot webhook and its secret (owners and admins)",
        "bot",
        auth="manager",
        response=BotWebhookOut,
        errors=(401, 403, 404),
    ),
)
def get_bot_webhook(site_id: str) -> tuple[Response, int]:
    return reply(BotWebhookOut(), bot_webhook.get_bot_webhook(current_principal(), site_id))


@endpoint(
    "/sites/<site_id>/bot/webhook",
    "PUT",
    EndpointDoc(
        "Send the site's visitor messages in bot tickets to its own bot (signed webhooks) "
        "instead of the FAQ bot (owners and admins)",
        "bot",
        auth="manager",
        body=BotWebhookIn,
        response=BotWebhookOut,
        errors=(401, 403, 404, 422),
    ),
)
def put_bot_webhook(site_id: str) -> tuple[Response, int]:
    data = json_body(BotWebhookIn())
    view = bot_webhook.set_bot_webhook(current_principal(), site_id, data["url"])
    return reply(BotWebhookOut(), view)


@endpoint(
    "/sites/<site_id>/bot/webhook",
    "DELETE",
    EndpointDoc(
        "Back to the FAQ bot (owners and admins)",
        "bot",
        auth="manager",
        status=204,
        errors=(401, 403, 404),
    ),
)
def delete_bot_webhook(site_id: str) -> tuple[Response, int]:
    bot_webhook.remove_bot_webhook(current_principal(), site_id)
    return Response(status=204), 204


@endpoint(
    "/sites/<site_id>/bot/replies",
    "POST",
    EndpointDoc(
        "A bring-your-own bot answers in a bot ticket and/or hands it to people; "
        "authenticated with Authorization: Bearer <the site's bot secret>",
        "bot",
        auth="none",
        body=BotReplyIn,
        response=BotReplyOut,
        errors=(401, 404, 409, 422),
    ),
)
def post_bot_reply(site_id: str) -> tuple[Response, int]:
    header = request.headers.get("Authorization", "")
    secret = header[7:].strip() if header.lower().startswith("bearer ") else None
    data = json_body(BotReplyIn())
    message, ticket = bot_webhook.post_bot_reply(site_id, secret, data)
    system = system_principal(ticket.workspace_id)
    return reply(BotReplyOut(), {"message": message, "ticket": ticket_view(system, ticket)})
