"""Fixtures for the web view tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def login(client):
    """Log ``user`` in on the test client and return the client."""

    def _login(user):
        client.force_login(user)
        return client

    return _login
