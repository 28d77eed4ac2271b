"""Satisfaction surveys: sent in the customer's own channel once a conversation has
stayed solved for `[survey] delay`, answers read as scores (`satisfaction` events),
and the limits that keep them rare (docs/reports.md, "Satisfaction surveys")."""
