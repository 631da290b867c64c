"""Fixtures for the care tests."""

from __future__ import annotations

import datetime as dt

import pytest

from salus.services.actions import local_date


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def today():
    from django.utils import timezone

    return local_date(timezone.now())


@pytest.fixture
def released_client(program, record_contact, today):
    """A client at site A released from detention 5 days ago, no naloxone kit on record."""
    contact = record_contact(program.site_a, raw_uic="RELE1990F", when=today,
                             released_from_detention_on=today - dt.timedelta(days=5))
    return contact.client
