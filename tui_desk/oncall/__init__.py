"""On-call rotation: who carries the emergency phone, when, and what it cost them.

The arithmetic (`schedule`, `report`, `ics`, `timeparse`) is pure: no SQL, no I/O, and
every instant is an aware datetime. `service` connects it to the store and the config;
`page` reaches the person on call. Nothing here imports textual.
"""

from .schedule import Epoch, Override, Rotation, Segment, Swap

__all__ = ["Epoch", "Override", "Rotation", "Segment", "Swap"]
