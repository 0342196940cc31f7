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
