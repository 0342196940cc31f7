"""Notifications: who hears about what when they are not connected, and how.

- ``hooks``: the one-line calls the message and ticket services make inside their
  transaction; each queues a job for after the commit.
- ``recipients``: who gets a push for a message, a new ticket or a handoff.
- ``collapse``: one push per ticket and recipient per window, later ones counted.
- ``outbox``: deliveries (push, webhook, e-mail) as rows with an idempotency key, claimed
  before sending, retried with backoff, never delivered twice.
- ``webpush``, ``webhooks``, ``mail``: the channels; ``outgoing`` guards every outgoing
  request against loopback and private addresses.
- ``subscriptions``: the use cases behind the push and webhook endpoints.
"""
