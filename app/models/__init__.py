"""Plain SQLAlchemy models: columns and constraints only, no side effects."""

from app.models.rating import Rating
from app.models.site import FaqEntry, Site, Visitor
from app.models.ticket import Message, Participant, Ticket
from app.models.workspace import Agent, ApiToken, Workspace
from app.models.workspace_content import CannedResponse, PushSubscription, Webhook

__all__ = [
    "Agent",
    "ApiToken",
    "CannedResponse",
    "FaqEntry",
    "Message",
    "Participant",
    "PushSubscription",
    "Rating",
    "Site",
    "Ticket",
    "Visitor",
    "Webhook",
    "Workspace",
]
