"""Parsing: raw channel items → `ParsedMessage`. Never raises on bad input."""

from .chat import parse_chat_line
from .mail import parse_email
from .model import Attachment, ParsedMessage

__all__ = ["Attachment", "ParsedMessage", "parse_chat_line", "parse_email"]
