"""Re-export of tui_desk.model, kept so older imports keep working; import from
tui_desk.model."""

from ..model import Attachment, ParsedMessage

__all__ = ["Attachment", "ParsedMessage"]
