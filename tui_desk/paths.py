"""Where tui-desk keeps its files (XDG through platformdirs), and the shipped data.

platformdirs and ipaddress are imported when asked: a command given its config and
database paths needs neither (every command imports this module).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "tui-desk"


def config_dir() -> Path:
    import platformdirs
    return Path(platformdirs.user_config_dir(APP))


def data_dir() -> Path:
    import platformdirs
    return Path(platformdirs.user_data_dir(APP))


def demo_config() -> Path:
    """Where `tui-desk demo` writes the demo desk's config."""
    return data_dir() / "demo" / "desk-source" / "config.toml"


def shipped_root() -> Path:
    """Where `data/` and `config.example.toml` are: the checkout in development,
    share/tui-desk under the install prefix after `pip install .`."""
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "data" / "demo").is_dir():
        return checkout
    installed = Path(sys.prefix) / "share" / APP
    return installed if installed.is_dir() else checkout


def shipped_data() -> Path:
    """The `data/` folder (demo data, default templates)."""
    return shipped_root() / "data"


def is_loopback(host: str) -> bool:
    """True for localhost and 127.0.0.0/8 or ::1."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    import ipaddress
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def attachments_dir(db_path: Path) -> Path:
    """Content-addressed attachment files live beside the database."""
    return Path(os.fspath(db_path) + ".files")
