"""What the email package found wrong with a message, in words an agent can act on.

Python's email parser reports damage as defect objects (email.errors); the desk shows
each as one sentence saying what is wrong and what was done about it. Problems stored
before this existed hold the bare class name ("CloseBoundaryNotFoundDefect"):
`problem_text` turns those into words at display time too.
"""

from __future__ import annotations

import re

_SENTENCES = {
    "CloseBoundaryNotFoundDefect": "the message's last MIME boundary is missing (cut off?); shown as received",
    "StartBoundaryNotFoundDefect": "the MIME boundary the message announces never appears; shown as one text",
    "MultipartInvariantViolationDefect": "the message says it has parts but none were found; shown as one text",
    "NoBoundaryInMultipartDefect": "the message says it has parts but names no boundary; shown as one text",
    "InvalidMultipartContentTransferEncodingDefect":
        "the message's part container has a transfer encoding, which is not allowed; ignored",
    "FirstHeaderLineIsContinuationDefect": "the first header line is indented as if it continued another; read as received",
    "MisplacedEnvelopeHeaderDefect": "a mailbox 'From ' line sits among the headers; ignored",
    "MissingHeaderBodySeparatorDefect": "no blank line after the headers; the text may begin among them",
    "MalformedHeaderDefect": "a header line has no colon; read as the start of the text",
    "UndecodableBytesDefect": "a header holds bytes that cannot be decoded",
    "InvalidBase64PaddingDefect": "base64 content has wrong padding; decoded as far as possible",
    "InvalidBase64CharactersDefect": "base64 content holds characters outside base64; they were skipped",
    "InvalidBase64LengthDefect": "base64 content is cut off mid-character; its last bytes are lost",
    "HeaderMissingRequiredValue": "a header that needs a value is empty",
    "InvalidHeaderDefect": "a header is not valid; read as far as possible",
    "InvalidDateDefect": "the Date header cannot be read",
    "NonPrintableDefect": "a header holds control characters",
    "ObsoleteHeaderDefect": "a header uses obsolete syntax; read as far as possible",
    "NonASCIILocalPartDefect": "an address has non-ASCII characters before the @",
    "HeaderDefect": "a header is damaged; read as far as possible",
    "MessageDefect": "the message's structure is damaged; shown as received",
}
_CLASS_NAME = re.compile(r"[A-Z][a-z]+(?:[A-Z0-9][a-z0-9]*)*(?:Defect|Value)")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+")


def defect_text(defect: object) -> str:
    """One sentence for an email.errors defect (any object: its class name decides)."""
    return _sentence(type(defect).__name__)


def problem_text(problem: str) -> str:
    """A stored problem as shown: a bare defect class name becomes its sentence, any
    other problem (already words) stays as it is."""
    return _sentence(problem) if _CLASS_NAME.fullmatch(problem) else problem


def _sentence(name: str) -> str:
    if name in _SENTENCES:
        return _SENTENCES[name]
    # a defect a newer Python invented: its name in words ("SomeNewThingDefect")
    words = " ".join(w.lower() if not w.isupper() else w for w in _WORD.findall(name.removesuffix("Defect")))
    return f"the message is malformed ({words or 'unknown damage'}); shown as received"
