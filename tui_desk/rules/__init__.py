"""Automation: the loop guard's message classes (rules and actions come later, issue 14)."""
