"""Plain SQLAlchemy models: columns and constraints only, no side effects."""

from app.models.audit import AuditEntry
from app.models.bot import BotReply, BotSettings
from app.models.notification import Delivery, NotificationWindow
from app.models.privacy import ErasedVisitor
from app.models.rating import Rating
from app.models.site import FaqEntry, Site, Visitor
from app.models.ticket import Message, Participant, Ticket
from app.models.workspace import Agent, ApiToken, Workspace
from app.models.workspace_content import CannedResponse, PushSubscription, Webhook

__all__ = [
    "Agent",
    "ApiToken",
    "AuditEntry",
    "BotReply",
    "BotSettings",
    "CannedResponse",
    "Delivery",
    "ErasedVisitor",
    "FaqEntry",
    "Message",
    "NotificationWindow",
    "Participant",
    "PushSubscription",
    "Rating",
    "Site",
    "Ticket",
    "Visitor",
    "Webhook",
    "Workspace",
]
