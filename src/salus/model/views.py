"""The model page for managers: the program's coverage today, its projected impact, and what
moving coverage would change, with uncertainty. The numbers come from salus.model.api."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from salus.core import access
from salus.model import api
from salus.model.program_data import ProgramDataError, program_inputs
from salus.model.report import compare_report
from salus.model.scenarios import ScenarioError

INTERVENTIONS = [
    ("nsp", gettext_lazy("Needle-syringe programs (high coverage)")),
    ("ost", gettext_lazy("Opioid substitution treatment")),
    ("art", gettext_lazy("ART among people diagnosed with HIV")),
    ("hiv_testing", gettext_lazy("HIV testing each year")),
    ("hcv_treatment", gettext_lazy("Hepatitis C treatment each year")),
    ("naloxone", gettext_lazy("Take-home naloxone")),
]
# Enough samples for honest 95 % intervals on a page that must answer in a few seconds.
WEB_SAMPLES = 100
WEB_SEED = 1


def _areas_with_pse():
    from salus.core.models import Area

    return Area.objects.filter(population_estimates__population="pwid").distinct().order_by("path")


def _build(request):
    """Parse the page's query into (context, comparison or None)."""
    access.require(request.user, "model.use")
    areas = list(_areas_with_pse())
    year_text = request.GET.get("year") or str(dt.date.today().year - 1)
    area_path = request.GET.get("area") or (areas[0].path if areas else "")
    interventions: list[dict] = []
    ctx = {"areas": areas, "area": area_path, "year": year_text, "interventions": interventions, "error": None,
           "comparison": None, "inputs": None, "samples": WEB_SAMPLES}
    if not area_path:
        ctx["error"] = _("No area has a population size estimate of people who inject drugs yet. Import one with 'salus import pse'.")
        return ctx
    try:
        year = int(year_text)
        if not 2000 <= year <= 2100:
            raise ValueError
    except ValueError:
        ctx["error"] = _("The year must be a four-digit year.")
        return ctx
    try:
        inputs = program_inputs(area_path, year)
    except ProgramDataError as exc:
        ctx["error"] = str(exc)
        return ctx
    ctx["inputs"] = inputs
    scenario = inputs.scenario
    sets = []
    for key, label in INTERVENTIONS:
        current = float(scenario["coverage"].get(key, 0.0))
        raw = request.GET.get(key)
        try:
            chosen = current if raw in (None, "") else min(max(float(raw) / 100.0, 0.0), 0.95)
        except ValueError:
            chosen = current
        sets.append(f"coverage.{key}={chosen}")
        interventions.append(
            {"key": key, "label": label, "current": round(current * 100), "chosen": round(chosen * 100)}
        )
    try:
        from salus.model.scenarios import apply_set

        scenario = apply_set(scenario, sets)
        scenario["name"] = _("Chosen coverage")
        scenario["baseline"]["name"] = _("Current program")
        ctx["comparison"] = api.compare_dicts(scenario, samples=WEB_SAMPLES, seed=WEB_SEED, workers=1)
    except (ScenarioError, ValueError) as exc:
        ctx["error"] = str(exc)
    return ctx


@login_required
def model_home(request):
    """GET: the page; with htmx, only the results block is swapped (hx-select)."""
    if not access.can(request.user, "model.use"):
        raise PermissionDenied
    ctx = _build(request)
    rows = []
    comp = ctx["comparison"]
    if comp:
        c = comp["comparison"]
        for key, label in [
            ("hiv_infections_averted", _("HIV infections averted")),
            ("hcv_infections_averted", _("Hepatitis C infections averted")),
            ("overdose_deaths_averted", _("Overdose deaths averted")),
            ("deaths_averted", _("Deaths averted (all causes)")),
            ("dalys_averted", _("DALYs averted")),
            ("incremental_cost", _("Extra cost, discounted (USD)")),
            ("cost_per_infection_averted", _("Cost per infection averted (USD)")),
            ("cost_per_death_averted", _("Cost per death averted (USD)")),
            ("cost_per_daly_averted", _("Cost per DALY averted (USD)")),
        ]:
            fig = c.get(key)
            rows.append({"label": label, "fig": fig if isinstance(fig, dict) else {"value": fig}})
        ctx["rows"] = rows
        ctx["probability"] = c.get("probability_cost_effective")
        ctx["threshold"] = c.get("threshold")
    return render(request, "model/home.html", ctx)


@login_required
def model_report(request):
    """The same comparison as a self-contained HTML report to download."""
    if not access.can(request.user, "model.use"):
        raise PermissionDenied
    ctx = _build(request)
    if not ctx["comparison"]:
        return HttpResponse(ctx["error"] or _("Nothing to report."), status=400, content_type="text/plain; charset=utf-8")
    resp = HttpResponse(compare_report(ctx["comparison"]), content_type="text/html; charset=utf-8")
    resp["Content-Disposition"] = 'attachment; filename="salus-model-report.html"'
    return resp
