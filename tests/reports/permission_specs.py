"""Permission specs for the indicator pages, dashboards and program report (/reports/).

Decision (docs/reports.md): coordinators see their own sites' figures only; managers,
analysts and administrators see the whole program, any area and any site. Workers and
clinicians hold no ``indicators.view``.
"""

try:
    from permission import Spec
except ImportError:  # tests/ imported as a package rather than put on sys.path
    from tests.permission import Spec

INDICATOR_ROLES = frozenset({"coordinator", "manager", "analyst", "admin"})
ORG_WIDE = frozenset({"manager", "analyst", "admin"})
# The CSV download needs export.aggregate as well, which every role with indicators.view holds.
ROUTES = ("indicators-home", "reports-dashboard", "reports-program-report", "indicators-download")


def _at(route: str, query: str):
    def build(program, record_contact):
        from django.urls import reverse

        return f"{reverse(route)}?{query}", None

    return build


SPECS = [
    # Site A's figures: its coordinator may look; worker_b's role is refused anyway.
    *(Spec(route=r, allowed=INDICATOR_ROLES, build=_at(r, "period=2025Q1&site=NA1")) for r in ROUTES),
    # No place named: the whole program for organisation-wide roles; a coordinator gets their
    # own site's figures instead (test_views checks which), so the menu link works for them too.
    *(Spec(route=r, allowed=INDICATOR_ROLES, build=_at(r, "period=2025"), site_scoped=False) for r in ROUTES),
    # An area: organisation-wide roles only, not a site coordinator.
    *(Spec(route=r, allowed=ORG_WIDE, build=_at(r, "period=2025Q1&area=XL/SOUTH"), site_scoped=False)
      for r in ROUTES),
]
