"""The Socket.IO event catalogue (CONTRACT section 5)."""

from __future__ import annotations

# Server -> client
MESSAGE_NEW = "message:new"
"""A message was committed: ``{message}``."""
TYPING = "typing"
"""Someone is typing or stopped: ``{ticket_id, sender, typing}``."""
DELIVERED = "delivered"
"""A participant's client received everything up to ``seq``."""
READ = "read"
"""A participant read everything up to ``seq``."""
PRESENCE = "presence"
"""A subject went online, away or offline."""
TICKET_CREATED = "ticket:created"
"""A new ticket, to its workspace's agents."""
TICKET_UPDATED = "ticket:updated"
"""A ticket's status, assignment, participants or last message changed."""
QUEUE = "queue"
"""To a waiting visitor: its ticket's place in the queue and the expected wait."""

# Client -> server
MESSAGE_SEND = "message:send"
TICKET_JOIN = "ticket:join"
TICKET_LEAVE = "ticket:leave"
TICKET_HANDOFF = "ticket:handoff"
SYNC = "sync"
PRESENCE_HEARTBEAT = "presence:heartbeat"
BOT_FEEDBACK = "bot:feedback"
"""A visitor pressed "That helped" or "Talk to a human" under a bot message."""

SERVER_EVENTS = (
    MESSAGE_NEW,
    TYPING,
    DELIVERED,
    READ,
    PRESENCE,
    TICKET_CREATED,
    TICKET_UPDATED,
    QUEUE,
)
CLIENT_EVENTS = (
    MESSAGE_SEND,
    TYPING,
    DELIVERED,
    READ,
    TICKET_JOIN,
    TICKET_LEAVE,
    TICKET_HANDOFF,
    SYNC,
    PRESENCE_HEARTBEAT,
    BOT_FEEDBACK,
)
