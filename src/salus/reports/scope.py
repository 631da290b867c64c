"""What a report is about: a period and the whole program, one area or one site.

Read from the query string (``?period=2025Q1&area=XL/NORTH`` or ``?site=NA1``; an area and a
site inside it narrow to the site) and checked
against the user's reach in one place, so that every view in this package gets the same rules:

- managers, analysts and administrators may look at the whole program, any area, any site;
- site coordinators look at their own sites only (one at a time): the program's and other
  areas' figures are the managers' to share;
- bad input (an unknown period or area, a site outside the area) is a
  :class:`ScopeError` whose message the page shows, never a server error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from salus.core import access
from salus.core.models import Area, Site


class ScopeError(ValueError):
    """The query string does not name a period and place the user may report on."""


@dataclass(frozen=True)
class Scope:
    """A resolved report scope.

    ``period`` is the engine's Period (start, end, label, days); ``area`` and ``site`` are
    model instances or None (None for both means the whole program).
    """

    period: object
    period_text: str
    area: Area | None
    site: Site | None

    @property
    def area_path(self) -> str | None:
        return self.area.path if self.area else None

    @property
    def site_code(self) -> str | None:
        return self.site.code if self.site else None

    @property
    def place_label(self) -> str:
        if self.site is not None:
            return str(self.site)
        if self.area is not None:
            return str(self.area)
        return _("Whole program")

    def query(self) -> dict[str, str]:
        """The query-string parameters that name this scope (for links between pages)."""
        q = {"period": self.period_text}
        if self.area is not None:
            q["area"] = self.area.path
        if self.site is not None:
            q["site"] = self.site.code
        return q


def default_period(today: dt.date) -> str:
    """The last complete calendar quarter before ``today`` (e.g. ``2025Q2`` on 2025-08-01).

    A complete quarter is the default because indicators of a period still running are partial.
    """
    quarter = (today.month - 1) // 3 + 1
    year, quarter = (today.year, quarter - 1) if quarter > 1 else (today.year - 1, 4)
    return f"{year}Q{quarter}"


def parse_period_text(text: str):
    """The engine's Period for ``text``, or ScopeError with a message a person can act on."""
    from salus.indicators.periods import parse_period

    try:
        return parse_period(text)
    except (ValueError, TypeError) as exc:
        raise ScopeError(
            _(
                "“%(period)s” is not a period. Write a year (2025), a quarter (2025Q1) "
                "or a month (2025-03)."
            )
            % {"period": text}
        ) from exc


def resolve_scope(user, params, *, default_site_for_coordinators: bool = True) -> Scope:
    """Read period, area and site from ``params`` (a QueryDict) for ``user``.

    Raises:
        PermissionDenied: the user may not see indicators at all, or asked for more than
            their own sites.
        access.NotVisible: the site is unknown or not one of the user's sites (404).
        ScopeError: the period or area is not understood.
    """
    access.require(user, "indicators.view")
    from salus.indicators.engine import today

    period_text = (params.get("period") or "").strip() or default_period(today())
    period = parse_period_text(period_text)
    area_path = (params.get("area") or "").strip().strip("/")
    site_code = (params.get("site") or "").strip()
    org_wide = access.is_org_wide(user)

    site = None
    if site_code:
        try:
            site = access.get_site_for_user(user, site_code)
        except access.NotVisible:
            if not org_wide:
                raise  # a site outside the user's own stays "not found"
            raise ScopeError(_("There is no site “%(site)s”.") % {"site": site_code}) from None
    elif not org_wide:
        if area_path:
            raise PermissionDenied("area")
        if default_site_for_coordinators:
            site = access.sites(user).order_by("code").first()
        if site is None:
            raise PermissionDenied("no site")

    area = None
    if area_path:
        area = Area.objects.filter(path=area_path).first()
        if area is None:
            raise ScopeError(_("There is no area “%(area)s”.") % {"area": area_path})
    if area is not None and site is not None:
        # The filter form sends both when a site is picked inside an area: the site narrows it.
        if not Area.objects.filter(area.subtree_q(), id=site.area_id).exists():
            raise ScopeError(
                _("The site %(site)s is not in the area %(area)s.") % {"site": site.code, "area": area.path}
            )
        area = None
    return Scope(period=period, period_text=period_text, area=area, site=site)


def choices_for(user) -> dict:
    """The areas and sites a user may pick in the filter form."""
    sites = list(access.sites(user).order_by("code"))
    areas = list(Area.objects.order_by("path")) if access.is_org_wide(user) else []
    return {"sites": sites, "areas": areas, "org_wide": access.is_org_wide(user)}
