"""Property-based test of every API operation against its own OpenAPI schema.

Schemathesis generates requests from the schema (valid and invalid bodies, query parameters,
path ids) and sends them in-process to the WSGI application with an administrator's token,
so every operation is reached. Whatever it sends, the API must answer without a server error.
"""

import json

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error


def _schema() -> dict:
    return json.loads(Client().get("/api/v1/openapi.json").content)


schema = schemathesis.openapi.from_dict(_schema())
schema.app = get_wsgi_application()

# Bounded: enough to meet every type of field wrong, small enough for the unit suite.
EXAMPLES = 25


@pytest.fixture
def keep_test_connection():
    """Keep the test's database connection open across in-process requests.

    Django closes connections at the end of each request; its own test client switches that
    off, the WSGI client used here does not. On PostgreSQL the test's transaction would go.
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(program, commodities, record_contact, tokens, keep_test_connection):
    # Something to find: a client and a contact at each site.
    record_contact(program.site_a, "MAJO1985M")
    record_contact(program.site_b, "FATI1990F")
    return tokens["admin"]


# About 30 s of CPU, but over a minute of wall time on a busy two-core machine.
@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_it_never_answers_with_a_server_error(case, admin_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"}, checks=[not_a_server_error])
