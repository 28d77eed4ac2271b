"""Integration tests: real servers and programs (Dovecot, aiosmtpd, Synapse, Chromium,
tmux) on 127.0.0.1. Each is marked `integration`: it skips locally without its server,
saying why, and fails instead under CI=true (tests/conftest.py `need`)."""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "/tests/integration/" in str(item.path):
            item.add_marker(pytest.mark.integration)
