"""Every explicit limit in one place; each has a test."""

from __future__ import annotations

MAX_BODY_CHARS = 5000
MAX_CLIENT_ID_CHARS = 64
MESSAGE_PAGE_DEFAULT = 50
MESSAGE_PAGE_MAX = 200
#: The largest seq a ticket can reach (an SQL INTEGER); history cursors above it are invalid.
MAX_SEQ = 2**31 - 1
TICKET_PAGE_DEFAULT = 25
TICKET_PAGE_MAX = 100
MAX_ALLOWED_ORIGINS = 50
MAX_NAME_CHARS = 200
MAX_URL_CHARS = 2048
MAX_PRECHAT_FIELDS = 10
#: The longest answer a visitor may give to one custom pre-chat field.
MAX_PRECHAT_ANSWER_CHARS = 500
MAX_EMAIL_CHARS = 254
#: The longest comment a visitor may leave with a satisfaction rating.
MAX_RATING_COMMENT_CHARS = 1000
MAX_FAQ_IMPORT_ENTRIES = 2000
#: How deeply a request's JSON may nest (the deepest real payload, site settings, needs 6).
MAX_JSON_DEPTH = 32
#: Messages a single ``sync`` returns per ticket before it says ``has_more``.
SYNC_PAGE_MAX = 500
#: Tickets routing gives one agent at once (open and pending ones assigned to it), at most.
MAX_ROUTING_CAPACITY = 100
DEFAULT_ROUTING_CAPACITY = 5
#: Canned responses of one workspace.
MAX_CANNED_RESPONSES = 500
MAX_CANNED_SHORTCUT_CHARS = 32
MAX_CANNED_TITLE_CHARS = 200
#: The longest ticket search text (GET /tickets?q=).
MAX_SEARCH_CHARS = 200
#: The longest date range of one report, in days; tickets a report reads, at most.
MAX_REPORT_DAYS = 366
MAX_REPORT_TICKETS = 20000
#: Earlier tickets the visitor panel lists.
VISITOR_PANEL_TICKETS = 20
#: Waiting visitors told their place in the queue after each routing pass.
MAX_QUEUE_NOTICES = 200
#: Notifications: a delivery (push, webhook, e-mail) is tried at most this often.
MAX_DELIVERY_ATTEMPTS = 8
#: The longest wait between two tries (backoff and a push service's Retry-After are capped).
MAX_RETRY_DELAY_S = 3600
#: Push subscriptions of one agent or visitor (the oldest goes beyond it).
MAX_PUSH_SUBSCRIPTIONS = 20
#: Webhooks of one site, and the events a webhook may name.
MAX_WEBHOOKS_PER_SITE = 10
#: Delivery log entries one page of GET /sites/{id}/webhooks/{id}/deliveries returns, at most.
DELIVERY_PAGE_MAX = 100
#: How long one outgoing push or webhook request may take (connect + read), in seconds.
OUTGOING_TIMEOUT_S = 10
#: Characters of a message a push or e-mail shows.
NOTIFICATION_PREVIEW_CHARS = 140
#: The FAQ bot's knowledge base: entries per site and the size of one entry.
MAX_FAQ_ENTRIES = 2000
MAX_FAQ_QUESTION_CHARS = 500
MAX_FAQ_ANSWER_CHARS = 5000
MAX_FAQ_ALTERNATIVES = 20
MAX_FAQ_IMPORT_BYTES = 2_000_000
#: Low-confidence bot turns in a row after which the ticket goes to a person.
BOT_LOW_CONFIDENCE_TURNS = 2
#: Labelled messages one calibration of a site's bot thresholds may take.
MAX_BOT_CALIBRATION_MESSAGES = 2000
#: Tries of one signed delivery to a bring-your-own bot before the ticket goes to people.
BOT_WEBHOOK_ATTEMPTS = 2
#: Messages a transcript e-mail carries at most (the newest are kept).
MAX_TRANSCRIPT_MESSAGES = 500
#: Values the in-process cache (app/services/cache.py) holds at most; the oldest go first.
CACHE_MAX_ENTRIES = 10000
#: Audit log entries one page of GET /workspace/audit returns by default, and at most.
AUDIT_PAGE_DEFAULT = 50
AUDIT_PAGE_MAX = 200
#: Messages one visitor export (GET /visitors/{id}/export) carries before it says truncated.
MAX_EXPORT_MESSAGES = 20000
# -- Rate limits (app/services/rate_limits.py, app/api/rate_limits.py). Each is also an app
# config key of the same name (and an environment variable); RATE_LIMITS=0 turns them all off
# (the benchmark and the test suite open thousands of connections from 127.0.0.1).
# REST limits are flask-limiter strings, counted in a moving window, on Redis with REDIS_URL.
#: Widget sessions one client address may start (each page load of the widget starts one).
RATE_LIMIT_WIDGET_SESSION = "60 per minute"
#: Sign-ups (new workspaces) from one client address.
RATE_LIMIT_SIGNUP = "10 per hour"
#: REST requests of one caller: the agent or visitor, or the client address without a token.
RATE_LIMIT_API = "600 per minute"
#: REST writes (POST, PUT, PATCH, DELETE) of one caller, keyed as above.
RATE_LIMIT_API_WRITES = "120 per minute"
#: Failed log-ins per e-mail address (a successful log-in clears them) and per client address.
LOGIN_FAILURES_PER_EMAIL = "5 per 15 minutes"
LOGIN_FAILURES_PER_IP = "50 per 15 minutes"
#: Socket.IO events of one connection: a token bucket refilled at RATE per second, holding
#: at most BURST (so BURST events may come at once after a quiet spell).
SOCKET_EVENT_RATE = 10.0
SOCKET_EVENT_BURST = 30
#: The same across all connections of one visitor (in Redis with REDIS_URL).
SOCKET_VISITOR_EVENT_RATE = 5.0
SOCKET_VISITOR_EVENT_BURST = 20
#: Open Socket.IO connections from one client address, per server process.
SOCKET_CONNECTIONS_PER_IP = 100
#: Every rate limit by name (the config keys above).
RATE_LIMIT_SETTINGS = (
    "RATE_LIMIT_WIDGET_SESSION",
    "RATE_LIMIT_SIGNUP",
    "RATE_LIMIT_API",
    "RATE_LIMIT_API_WRITES",
    "LOGIN_FAILURES_PER_EMAIL",
    "LOGIN_FAILURES_PER_IP",
    "SOCKET_EVENT_RATE",
    "SOCKET_EVENT_BURST",
    "SOCKET_VISITOR_EVENT_RATE",
    "SOCKET_VISITOR_EVENT_BURST",
    "SOCKET_CONNECTIONS_PER_IP",
)
