"""Tickets, their participants and their messages."""

from __future__ import annotations

from flask import Response

from app.api import EndpointDoc, endpoint, json_body, query_args, reply
from app.auth.web import current_principal
from app.errors import Forbidden, Invalid
from app.schemas.tickets import (
    MessageEnvelope,
    MessageIn,
    MessagePageOut,
    MessagePageQuery,
    OkOut,
    ParticipantIn,
    RatingEnvelope,
    RatingIn,
    ReadIn,
    TicketEnvelope,
    TicketListOut,
    TicketListQuery,
    TicketPatchIn,
    TicketStartIn,
    TicketStartOut,
)
from app.services import messages, ratings, tickets
from app.services.views import ticket_view, ticket_views


@endpoint(
    "/tickets",
    "GET",
    EndpointDoc(
        "Tickets, newest activity first (a visitor sees only its own)",
        "tickets",
        auth="agent_or_visitor",
        query=TicketListQuery,
        response=TicketListOut,
        errors=(401, 422),
    ),
)
def list_tickets() -> tuple[Response, int]:
    principal = current_principal(visitors=True)
    args = query_args(TicketListQuery())
    page, cursor = tickets.list_tickets(principal, **args)
    return reply(TicketListOut(), {"tickets": ticket_views(principal, page), "next_cursor": cursor})


@endpoint(
    "/tickets",
    "POST",
    EndpointDoc(
        "A visitor writes without a ticket id: to its active ticket, or a new one",
        "tickets",
        auth="visitor",
        body=TicketStartIn,
        response=TicketStartOut,
        status=201,
        errors=(401, 403, 422),
    ),
)
def start_ticket() -> tuple[Response, int]:
    principal = current_principal(visitors=True)
    if not principal.is_visitor:
        raise Forbidden("Only visitors start tickets; agents reply to existing ones.")
    data = json_body(TicketStartIn())
    result = messages.send_message(
        principal, ticket_id=None, client_id=data["client_id"], body=data["body"]
    )
    body = {
        "ticket": ticket_view(principal, tickets.get_ticket(principal, result.ticket_id)),
        "message": result.message,
        "duplicate": result.duplicate,
    }
    return reply(TicketStartOut(), body, 200 if result.duplicate else 201)


@endpoint(
    "/tickets/<ticket_id>",
    "GET",
    EndpointDoc(
        "One ticket", "tickets", auth="agent_or_visitor", response=TicketEnvelope, errors=(401, 404)
    ),
)
def get_ticket(ticket_id: str) -> tuple[Response, int]:
    principal = current_principal(visitors=True)
    ticket = tickets.get_ticket(principal, ticket_id)
    return reply(TicketEnvelope(), {"ticket": ticket_view(principal, ticket)})


@endpoint(
    "/tickets/<ticket_id>",
    "PATCH",
    EndpointDoc(
        "Change a ticket's status or assignee (null unassigns)",
        "tickets",
        body=TicketPatchIn,
        response=TicketEnvelope,
        errors=(401, 403, 404, 409, 422),
    ),
)
def update_ticket(ticket_id: str) -> tuple[Response, int]:
    principal = current_principal()
    data = json_body(TicketPatchIn())
    if not data:
        raise Invalid("Nothing to change: send status and/or assignee_id.")
    ticket = tickets.update_ticket(
        principal,
        ticket_id,
        status=data.get("status"),
        assignee_id=data.get("assignee_id"),
        unassign="assignee_id" in data and data["assignee_id"] is None,
    )
    return reply(TicketEnvelope(), {"ticket": ticket_view(principal, ticket)})


@endpoint(
    "/tickets/<ticket_id>/participants",
    "POST",
    EndpointDoc(
        "Invite an agent into the ticket's group",
        "tickets",
        body=ParticipantIn,
        response=TicketEnvelope,
        errors=(401, 403, 404, 422),
    ),
)
def add_participant(ticket_id: str) -> tuple[Response, int]:
    principal = current_principal()
    data = json_body(ParticipantIn())
    ticket = tickets.add_participant(principal, ticket_id, data["agent_id"])
    return reply(TicketEnvelope(), {"ticket": ticket_view(principal, ticket)})


@endpoint(
    "/tickets/<ticket_id>/participants/<agent_id>",
    "DELETE",
    EndpointDoc(
        "Take an agent out of the ticket's group",
        "tickets",
        response=TicketEnvelope,
        errors=(401, 403, 404),
    ),
)
def remove_participant(ticket_id: str, agent_id: str) -> tuple[Response, int]:
    principal = current_principal()
    ticket = tickets.remove_participant(principal, ticket_id, agent_id)
    return reply(TicketEnvelope(), {"ticket": ticket_view(principal, ticket)})


@endpoint(
    "/tickets/<ticket_id>/messages",
    "GET",
    EndpointDoc(
        "A page of history, ascending by seq (newest page without a cursor)",
        "messages",
        auth="agent_or_visitor",
        query=MessagePageQuery,
        response=MessagePageOut,
        errors=(401, 404, 422),
    ),
)
def list_messages(ticket_id: str) -> tuple[Response, int]:
    principal = current_principal(visitors=True)
    args = query_args(MessagePageQuery())
    rows, has_more = messages.list_messages(principal, ticket_id, **args)
    return reply(MessagePageOut(), {"messages": rows, "has_more": has_more})


@endpoint(
    "/tickets/<ticket_id>/messages",
    "POST",
    EndpointDoc(
        "Send a message; a repeated client_id returns the stored one with 200",
        "messages",
        auth="agent_or_visitor",
        body=MessageIn,
        response=MessageEnvelope,
        status=201,
        errors=(401, 403, 404, 422),
    ),
)
def send_message(ticket_id: str) -> tuple[Response, int]:
    principal = current_principal(visitors=True)
    data = json_body(MessageIn())
    if data.get("ticket_id") not in (None, ticket_id):
        raise Invalid("ticket_id in the body differs from the URL.")
    result = messages.send_message(
        principal,
        ticket_id=ticket_id,
        client_id=data["client_id"],
        body=data["body"],
        kind=data["kind"],
    )
    return reply(
        MessageEnvelope(),
        {"message": result.message, "duplicate": result.duplicate},
        200 if result.duplicate else 201,
    )


@endpoint(
    "/tickets/<ticket_id>/read",
    "POST",
    EndpointDoc(
        "Mark everything up to seq as read by the caller",
        "messages",
        auth="agent_or_visitor",
        body=ReadIn,
        response=OkOut,
        errors=(401, 404, 422),
    ),
)
def mark_read(ticket_id: str) -> tuple[Response, int]:
    principal = current_principal(visitors=True)
    data = json_body(ReadIn())
    messages.mark_read(principal, ticket_id, data["seq"])
    return reply(OkOut(), {"ok": True})


@endpoint(
    "/tickets/<ticket_id>/rating",
    "POST",
    EndpointDoc(
        "The visitor rates its resolved ticket (201); rating it again replaces the rating (200)",
        "tickets",
        auth="visitor",
        body=RatingIn,
        response=RatingEnvelope,
        status=201,
        errors=(401, 403, 404, 409, 422),
        also_200="The ticket was rated before: this rating replaced it",
    ),
)
def rate_ticket(ticket_id: str) -> tuple[Response, int]:
    principal = current_principal(visitors=True)
    data = json_body(RatingIn())
    result = ratings.rate_ticket(principal, ticket_id, data["score"], data.get("comment"))
    return reply(RatingEnvelope(), {"rating": result.rating}, 201 if result.created else 200)
