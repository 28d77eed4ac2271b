"""The states a conversation, a reply and a page can be in, as the schema's CHECK
constraints name them (the migrations use them; so do the store and the front ends)."""

from __future__ import annotations

STATUSES = ("new", "open", "pending", "snoozed", "solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
OUTBOX_STATES = ("queued", "sending", "sent", "failed", "cancelled")
"""The outbox states m001 created (kept as they were: m001 must not change)."""
DELIVERY_STATES = ("queued", "sending", "uncertain", "sent", "failed", "cancelled")
"""The outbox states since m220: "uncertain" = SMTP DATA began and no 250 was recorded."""
PAGE_STATES = ("open", "acknowledged", "resolved")
NOTICE_STATES = ("sending", "sent", "failed")
