"""Shared fixtures: every test gets its own data and config dirs, and a migrated store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hypothesis import settings as hypothesis_settings

from tui_desk.store import Store

# CI runs the same examples every time (derandomize); local runs keep exploring widely.
# No deadline: this machine is shared, and speed is measured in bench/, never in a test.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
hypothesis_settings.register_profile("local", print_blob=True, deadline=None)
hypothesis_settings.load_profile(
    "ci" if os.environ.get("CI", "").lower() == "true" else os.environ.get("HYPOTHESIS_PROFILE", "local"))

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """Keep every test away from the real user's config and data."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv("TUI_DESK_CONFIG", raising=False)
    monkeypatch.setenv("USER", "tester")


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "desk.db"


@pytest.fixture
def store(db_path):
    with Store.open(db_path) as opened:
        yield opened


def under_ci() -> bool:
    """Integration tests fail instead of skipping when CI=true."""
    return os.environ.get("CI", "").lower() == "true"


def need(condition: bool, why: str) -> None:
    """Skip locally (saying why) or fail under CI when a required server is missing."""
    if condition:
        return
    if under_ci():
        pytest.fail(f"CI=true and {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL server for the session (tests/helpers/postgres.py)."""
    from tests.helpers import postgres
    why = postgres.available()
    need(why is None, why or "")
    with postgres.server() as running:
        yield running


@pytest.fixture
def pg_url(pg_server) -> str:
    """The URL of an empty database of this test's own on the throwaway server."""
    with pg_server.fresh_database() as url:
        yield url
