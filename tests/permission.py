"""The permission matrix: every URL × every role × own site / other site.

Each test package declares the URLs it owns in a ``permission_specs.py`` module as a list of
:class:`Spec`. ``tests/test_permission_matrix.py`` walks Django's URL resolver and the API's
OpenAPI paths, fails for any route that no spec covers (so a new view or endpoint without a
permission test fails the suite), and checks each spec for each persona.

A spec names the route, how to build its URL for an object at site A, and which roles may use
it. For site-scoped routes, ``worker_b`` (site B only) must be refused even though their role
is allowed: that is the cross-site check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Spec:
    # URL name (web) or "METHOD /api/v1/path/{param}" as in the OpenAPI schema (API).
    route: str
    # Roles that may use it (persona roles: worker, coordinator, clinician, manager, analyst, admin).
    allowed: frozenset[str]
    # Builds (url, data) for an object at site A; gets the ``program`` and ``record_contact``
    # fixtures. ``data`` is the POST body (dict for forms, dict for JSON) or None for GET.
    build: Callable[..., tuple[str, dict | None]]
    method: str = "GET"
    # Whether the object belongs to site A, so worker_b must be refused although allowed.
    site_scoped: bool = True
    # "web" (session log-in, form posts) or "api" (bearer token, JSON).
    kind: str = "web"
    # Routes open without log-in (the log-in page, the anonymous feedback form).
    public: bool = False
    # Status codes that mean "allowed" for this route.
    ok_statuses: frozenset[int] = field(default_factory=lambda: frozenset({200, 201, 204, 302}))


ROLES = ("worker", "coordinator", "clinician", "manager", "analyst", "admin")
EVERY_ROLE = frozenset(ROLES)
FRONTLINE = frozenset({"worker", "coordinator", "clinician", "manager", "admin"})
