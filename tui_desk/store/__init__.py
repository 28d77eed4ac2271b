"""The store: the only part of tui-desk that writes SQL.

`Store.open(path)` opens (and migrates) the database; its methods are the narrow
interface the services and front ends use, so another backend can replace it later.
"""

from .actions import AlreadyClaimed
from .core import Store
from .stamps import now, parse_stamp, stamp
from .queries import Cursor, ListFilter
from .reports import ReportScope

__all__ = ["AlreadyClaimed", "Cursor", "ListFilter", "ReportScope", "Store", "now", "parse_stamp", "stamp"]
