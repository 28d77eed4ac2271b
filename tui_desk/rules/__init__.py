"""Automation: rules that act on new messages and status changes, groups to route to,
and the loop guard that keeps automatic replies from starting mail loops."""
