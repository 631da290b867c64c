"""API fixtures: a bearer token per persona and a small JSON client."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from salus.core.actions import do_create_api_token


class Api:
    """Calls /api/v1 as a persona: ``api.get("/contacts", as_="worker_a")``."""

    def __init__(self, tokens: dict[str, str]):
        self.tokens = tokens
        self.client = Client()

    def call(self, method: str, path: str, as_: str | None = None, body=None, token: str | None = None,
             headers: dict | None = None, raw: bytes | str | None = None):
        extra = dict(headers or {})
        token = token or (self.tokens[as_] if as_ else None)
        if token:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        url = path if path.startswith("/api/") else "/api/v1" + path
        fn = getattr(self.client, method.lower())
        if method.upper() in ("GET", "DELETE"):
            return fn(url, **extra)
        data = raw if raw is not None else json.dumps(body if body is not None else {}, default=str)
        return fn(url, data=data, content_type="application/json", **extra)

    def get(self, path, as_=None, **kw):
        return self.call("GET", path, as_, **kw)

    def post(self, path, body=None, as_=None, **kw):
        return self.call("POST", path, as_, body=body, **kw)

    def patch(self, path, body=None, as_=None, **kw):
        return self.call("PATCH", path, as_, body=body, **kw)


@pytest.fixture
def tokens(program) -> dict[str, str]:
    return {name: do_create_api_token("test", user, "tests")[1] for name, user in program.users().items()}


@pytest.fixture
def api(tokens) -> Api:
    return Api(tokens)


@pytest.fixture
def commodities(db):
    """The commodities contacts draw on, each with a stock of 1000 at both test sites."""
    from salus.core.models import Site
    from salus.stock.actions import do_record_stock_movement
    from salus.stock.models import Commodity

    rows = [
        ("syringe", "Syringe", "injecting"), ("injecting_kit", "Injecting kit", "injecting"),
        ("condom", "Condom", "condoms"), ("naloxone_kit", "Naloxone kit", "naloxone"),
        ("hiv_test_kit", "HIV test kit", "tests"), ("hcv_test_kit", "HCV test kit", "tests"),
    ]
    made = [Commodity.objects.get_or_create(code=c, defaults={"name": n, "category": cat})[0] for c, n, cat in rows]
    import datetime as dt

    for site in Site.objects.all():
        for com in made:
            do_record_stock_movement("test", site=site, commodity=com, kind="receipt", quantity=1000,
                                     occurred_on=dt.date(2024, 1, 1))
    return made


def contact_body(**over) -> dict:
    """A valid contact for site A (default UIC MAJO1985M)."""
    body = {"date": "2025-03-01", "site": "NA1", "uic": "MAJO1985M", "injects": True, "syringes_given": 10,
            "syringes_returned": 8, "condoms_given": 4}
    body.update(over)
    return body
