"""Console tests: Textual's Pilot and snapshots (tests/tui/__snapshots__), on the
fixture desk of tests/helpers/desk.py."""

from tests.helpers.tui import anyio_backend, desk  # noqa: F401 (fixtures for every console test)
