"""GET /indicators: the indicator rows of a period and place, for another system.

The rows are those of ``salus indicators --format json`` (docs/indicators.md, "The rows"),
always small-cell suppressed: an answer to another system leaves Salus, as a file does. Each
answer writes an ``export.aggregate`` audit row (salus.indicators.exports.do_release_rows).
Who may ask for which place follows the indicator pages (salus.reports.scope): coordinators
their own sites, organisation-wide roles any area or site.
"""

from __future__ import annotations

from ninja import Field, Query, Router, Schema
from pydantic import field_validator

from salus.api.errors import invalid
from salus.api.schemas import ERRORS, _no_nul
from salus.core import access

router = Router(tags=["indicators"])

Number = int | float


class IndicatorParams(Schema):
    _check_nul = field_validator("*")(_no_nul)

    period: str = Field(max_length=20, description="2025, 2025Q1, 2025-03 or 202503.")
    area: str | None = Field(None, max_length=200, description="An area path (XL/NORTH); default the whole program.")
    site: str | None = Field(None, max_length=40, description="A site code (inside ``area`` when both are given).")
    totals: bool = Field(False, description="Only the total of each indicator, no disaggregation cells.")


class IndicatorRowOut(Schema):
    code: str
    period: str
    area: str | None
    site: str | None
    disaggregation: dict[str, str]
    value: Number | None
    programme_value: Number | None
    numerator: Number | None
    denominator: Number | None
    population_denominator: Number | None
    value_low: Number | None
    value_high: Number | None
    level: str | None
    kind: str
    note: str | None
    suppressed: bool


@router.get("/indicators", response={200: list[IndicatorRowOut], **ERRORS})
def list_indicators(request, params: Query[IndicatorParams]):
    """Every indicator of ``period`` for the program, an area or a site, one row per
    indicator and cell, small-cell suppressed. Needs ``indicators.view`` and
    ``export.aggregate``; a coordinator gets their own site (the first by code, or ``site``)."""
    from salus.indicators.exports import do_release_rows
    from salus.reports.scope import ScopeError, parse_period_text, resolve_scope

    user = request.auth
    # PermissionDenied (403) and access.NotVisible (404) are answered by salus.api.errors.
    access.require(user, "export.aggregate")
    try:
        parse_period_text(params.period)
    except ScopeError as exc:
        raise invalid("period", str(exc)) from None
    query = {"period": params.period, "area": params.area or "", "site": params.site or ""}
    try:
        scope = resolve_scope(user, query)
    except ScopeError as exc:  # the period is understood: the place is not
        raise invalid("site" if params.site else "area", str(exc)) from None
    rows = do_release_rows(user, str(scope.period), area=scope.area_path, site=scope.site_code,
                           totals=params.totals)
    return [dict(r, suppressed=bool(r.get("suppressed"))) for r in rows]

