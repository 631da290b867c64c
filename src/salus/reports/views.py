"""Indicator pages, dashboards and the printable program report.

Every view starts with :func:`salus.reports.scope.resolve_scope` (capability, reach, period and
place in one place), takes its numbers from the indicator engine, and applies small-cell
suppression through salus.reports.tables. Aggregate pages show no individual record, so they
write no ``client.view`` audit rows.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from salus.core import access
from salus.core.config import program_config
from salus.indicators.engine import today as engine_today
from salus.reports import dashboard as dashboard_data
from salus.reports.scope import ScopeError, choices_for, resolve_scope
from salus.reports.tables import build_rows, compute_cells, is_suppressed_for


def _base_context(request, error: str = "", scope=None) -> dict:
    return {
        "query": urlencode(scope.query()) if scope else "",
        "choices": choices_for(request.user),
        "period_text": scope.period_text if scope else request.GET.get("period", ""),
        "selected_area": scope.area_path if scope else request.GET.get("area", ""),
        "selected_site": scope.site_code if scope else request.GET.get("site", ""),
        "error": error,
        "scope": scope,
        # A period still running gives partial counts; per-year rates are scaled to its full length.
        "period_open": bool(scope) and scope.period.end >= engine_today(),
    }


def _scope_or_error(request, template: str):
    """(scope, None) or (None, the page with the error message and status 400)."""
    try:
        return resolve_scope(request.user, request.GET), None
    except ScopeError as exc:
        return None, render(request, template, _base_context(request, str(exc)), status=400)


@require_GET
@login_required
def indicators_home(request):
    """Every indicator for a period and place: both denominators, PSE range, level, notes."""
    scope, error_page = _scope_or_error(request, "reports/indicators.html")
    if error_page:
        return error_page
    suppress = is_suppressed_for(request.user)
    rows = build_rows(compute_cells(scope, suppress=suppress))
    context = _base_context(request, scope=scope) | {"rows": rows, "suppressed": suppress,
                                                     "threshold": program_config().suppression_threshold}
    context |= _download_context(request.user)
    return render(request, "reports/indicators.html", context)


def _download_context(user) -> dict:
    """What the indicators page offers to download: CSV to every holder of export.aggregate,
    DHIS2 JSON and ADX too once the program has a mapping file."""
    from salus.indicators.exports import mapping_path

    may = access.can(user, "export.aggregate")
    return {"may_download": may, "dhis2_mapping": may and mapping_path() is not None}


@require_GET
@login_required
def indicators_download(request):
    """The indicators of a period and place as a file to take away: ``format`` csv (every
    cell), json (DHIS2 dataValueSets) or adx, the last two through the program's mapping file.

    Always suppressed, whoever asks (the file leaves the system), and audited
    (salus.indicators.exports.do_export_indicators). Needs export.aggregate and the same reach
    as the indicators page.
    """
    from salus.indicators.exports import FORMATS, ExportError, do_export_indicators, mapping_path

    access.require(request.user, "export.aggregate")
    scope, error_page = _scope_or_error(request, "reports/indicators.html")
    if error_page:
        return error_page
    fmt = request.GET.get("format", "csv")
    mapping = mapping_path() if fmt in ("json", "adx") else None
    error = ""
    if fmt not in FORMATS:
        error = _("Choose a file format: CSV, DHIS2 JSON or ADX.")
    elif fmt != "csv" and mapping is None:
        error = _("DHIS2 and ADX files need the program's DHIS2 mapping, and there is none yet. "
                  "An administrator sets it up (docs/exports.md).")
    else:
        try:
            export = do_export_indicators(request.user, fmt, scope.period.label, area=scope.area_path,
                                          site=scope.site_code, mapping_file=mapping)
        except ExportError as exc:
            error = _("The DHIS2 mapping does not fit this place or period, so no file was made: "
                      "%(problem)s. An administrator can complete it (docs/exports.md).") % {"problem": exc}
    if error:
        context = _base_context(request, error=error)
        return render(request, "reports/indicators.html", context, status=400)
    response = HttpResponse(export.data, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    # Aggregates still describe a program: no shared cache keeps a copy.
    response["Cache-Control"] = "no-store, private"
    return response


@require_GET
@login_required
def dashboard(request):
    """Monthly trends for the twelve months to the end of the period, and coverage charts."""
    scope, error_page = _scope_or_error(request, "reports/dashboard.html")
    if error_page:
        return error_page
    suppress = is_suppressed_for(request.user)
    context = _base_context(request, scope=scope) | dashboard_data.build(scope, suppress=suppress)
    context |= {"suppressed": suppress, "threshold": program_config().suppression_threshold}
    return render(request, "reports/dashboard.html", context)


@require_GET
@login_required
def program_report(request):
    """The quarterly or annual report to print: always suppressed, since paper leaves the system."""
    scope, error_page = _scope_or_error(request, "reports/program_report.html")
    if error_page:
        return error_page
    cells = compute_cells(scope, suppress=True)
    context = _base_context(request, scope=scope) | dashboard_data.build(scope, suppress=True, cells=cells)
    context |= {
        "rows": build_rows(cells),
        "suppressed": True,
        "threshold": program_config().suppression_threshold,
        "estimates": dashboard_data.population_estimates(scope),
        "config": program_config(),
        "now": timezone.now(),
    }
    return render(request, "reports/program_report.html", context)
