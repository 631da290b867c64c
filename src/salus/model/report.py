"""Self-contained HTML reports: inline SVG charts, no script, no external assets."""

from __future__ import annotations

from html import escape

from . import svg
from .i18n import _, gettext_noop

STYLE = """
body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;
text-align:right}th:first-child,td:first-child{text-align:left}.note{color:#555;font-size:.9rem}
"""


def _value(fig):
    return fig["value"] if isinstance(fig, dict) else fig


def _band(fig, key):
    return fig.get(key) if isinstance(fig, dict) else None


def format_figure(fig, digits: int = 0) -> str:
    """'12,345' or '12,345 (10,000-15,000)'; '-' for missing values."""
    if fig is None:
        return "-"

    def f(v):
        if v is None:
            return "-"
        return f"{v:,.{digits}f}"

    if isinstance(fig, dict):
        return f"{f(fig['value'])} ({f(fig['low'])} to {f(fig['high'])})"
    return f(fig)


def _page(title: str, body: list[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{escape(title)}</title>",
            f"<style>{STYLE}</style></head><body>",
            f"<h1>{escape(title)}</h1>",
            *body,
            "</body></html>",
        ]
    )


def _series(result: dict, key: str, label: str, sub: str | None = None) -> dict:
    figs = [(y[key][sub] if sub else y[key]) for y in result["years"]]
    return {
        "label": label,
        "values": [_value(f) for f in figs],
        "low": [_band(f, "low") for f in figs] if isinstance(figs[0], dict) else None,
        "high": [_band(f, "high") for f in figs] if isinstance(figs[0], dict) else None,
    }


def _charts(results: list[tuple[str, dict]]) -> list[str]:
    years = [y["year"] for y in results[0][1]["years"]]
    specs = [
        (_("New HIV infections per year"), "new_hiv_infections", None, _("people")),
        (_("New HCV infections per year"), "new_hcv_infections", None, _("people")),
        (_("Overdose deaths per year"), "overdose_deaths", None, _("deaths")),
        (_("HIV prevalence among people who inject drugs"), "hiv_prevalence", None, _("fraction")),
        (
            _("Chronic HCV prevalence among people who inject drugs"),
            "hcv_prevalence",
            None,
            _("fraction"),
        ),
        (_("Total cost per year (undiscounted)"), "cost", "total", _("USD")),
    ]
    out = []
    for title, key, sub, unit in specs:
        series = [_series(r, key, name, sub) for name, r in results]
        out.append(svg.line_chart(title, years, series, unit))
    return out


ROWS = (
    ("population_end", None, gettext_noop("People who inject drugs (end of year)")),
    ("new_hiv_infections", None, gettext_noop("New HIV infections")),
    ("new_hcv_infections", None, gettext_noop("New HCV infections")),
    ("overdose_deaths", None, gettext_noop("Overdose deaths")),
    ("deaths", "total", gettext_noop("Deaths, all causes")),
    ("cost", "total", gettext_noop("Cost (USD, undiscounted)")),
    ("dalys", None, gettext_noop("DALYs (discounted)")),
)


def _yearly_table(result: dict) -> str:
    head = "".join(f"<th>{escape(_(label))}</th>" for _k, _s, label in ROWS)
    rows = []
    for y in result["years"]:
        cells = "".join(
            f"<td>{format_figure(y[k][s] if s else y[k])}</td>" for k, s, _label in ROWS
        )
        rows.append(f"<tr><td>{y['year']}</td>{cells}</tr>")
    tot = result["totals"]
    cells = "".join(
        f"<td>{'' if k == 'population_end' else format_figure(tot[k][s] if s else tot[k])}</td>"
        for k, s, _label in ROWS
    )
    rows.append(f"<tr><th>{escape(_('Total'))}</th>{cells}</tr>")
    return f"<table><tr><th>{escape(_('Year'))}</th>{head}</tr>" + "".join(rows) + "</table>"


def _interval_note(result: dict) -> str:
    if result.get("samples"):
        text = _(
            "Figures in brackets are 95 %% intervals over %(n)s Latin hypercube parameter "
            "samples (seed %(seed)s)."
        ) % {"n": result["samples"], "seed": result["seed"]}
    else:
        text = _("Central parameter values; run with --samples for uncertainty intervals.")
    return f'<p class="note">{escape(text)}</p>'


def _coverage_table(result: dict) -> str:
    first = result["years"][0]["people_on"]
    coverage = result.get("coverage", {})
    rows = "".join(
        f"<tr><td>{escape(_(INTERVENTION_LABELS[k]))}</td>"
        f"<td>{coverage[k]:.0%}</td><td>{format_figure(v)}</td></tr>"
        if k in coverage
        else f"<tr><td>{escape(_(INTERVENTION_LABELS[k]))}</td><td>-</td>"
        f"<td>{format_figure(v)}</td></tr>"
        for k, v in first.items()
    )
    return (
        f"<table><tr><th>{escape(_('Programme'))}</th><th>{escape(_('Coverage'))}</th>"
        f"<th>{escape(_('First year: average people on it (tests, courses)'))}</th></tr>{rows}</table>"
    )


INTERVENTION_LABELS = {
    "nsp": gettext_noop("Needle and syringe programme (high coverage)"),
    "ost": gettext_noop("Opioid substitution treatment"),
    "art": gettext_noop("Antiretroviral therapy"),
    "hiv_testing": gettext_noop("HIV tests"),
    "hcv_treatment": gettext_noop("HCV treatment courses"),
    "naloxone": gettext_noop("Take-home naloxone"),
}


def run_report(result: dict) -> str:
    """HTML report of one scenario result (from ``api.run_scenario_dict``)."""
    body = [
        _interval_note(result),
        _coverage_table(result),
        *_charts([(result["scenario"], result)]),
        f"<h2>{escape(_('Year by year'))}</h2>",
        _yearly_table(result),
    ]
    return _page(result["scenario"], body)


COMPARISON_ROWS = (
    ("hiv_infections_averted", gettext_noop("HIV infections averted"), 0),
    ("hcv_infections_averted", gettext_noop("HCV infections averted"), 0),
    ("deaths_averted", gettext_noop("Deaths averted"), 0),
    ("overdose_deaths_averted", gettext_noop("Overdose deaths averted"), 0),
    ("dalys_averted", gettext_noop("DALYs averted (discounted)"), 0),
    ("incremental_cost", gettext_noop("Incremental cost (USD, discounted)"), 0),
    ("cost_per_infection_averted", gettext_noop("Cost per infection averted (USD)"), 0),
    ("cost_per_death_averted", gettext_noop("Cost per death averted (USD)"), 0),
    ("cost_per_daly_averted", gettext_noop("Cost per DALY averted (USD)"), 0),
)


def cost_effectiveness_sentence(c: dict) -> str:
    """'Probability cost-effective ...' with samples, else the central verdict."""
    threshold = f"{c['threshold']:,.0f}"
    if c["probability_cost_effective"] is not None:
        return _("Probability cost-effective at %(t)s USD per DALY averted: %(p)s") % {
            "t": threshold,
            "p": f"{c['probability_cost_effective']:.2f}",
        }
    nmb = c["net_monetary_benefit"]
    if nmb > 0:
        return _(
            "Cost-effective at %(t)s USD per DALY averted (central estimate; run with "
            "--samples for a probability)."
        ) % {"t": threshold}
    return _(
        "Not cost-effective at %(t)s USD per DALY averted (central estimate; run with "
        "--samples for a probability)."
    ) % {"t": threshold}


def compare_report(comparison: dict) -> str:
    """HTML report of ``api.compare_dicts`` output."""
    scen, base, comp = comparison["scenario"], comparison["baseline"], comparison["comparison"]
    rows = "".join(
        f"<tr><td>{escape(_(label))}</td><td>{format_figure(comp[key], digits)}</td></tr>"
        for key, label, digits in COMPARISON_ROWS
    )
    prob = cost_effectiveness_sentence(comp)
    body = [
        f"<p>{escape(_('Scenario'))}: {escape(scen['scenario'])}<br>"
        f"{escape(_('Compared with'))}: {escape(base['scenario'])}</p>",
        _interval_note(scen),
        f"<table><tr><th>{escape(_('Outcome over the horizon'))}</th>"
        f"<th>{escape(_('Value'))}</th></tr>{rows}</table>",
        f"<p>{escape(prob)}</p>",
        *_charts([(scen["scenario"], scen), (base["scenario"], base)]),
    ]
    if comp.get("ceac"):
        xs = list(range(len(comp["ceac"])))
        labels = ", ".join(f"{p['threshold']:,.0f}" for p in comp["ceac"])
        body.append(
            svg.line_chart(
                _("Cost-effectiveness acceptability curve"),
                xs,
                [
                    {
                        "label": _("P(cost-effective)"),
                        "values": [p["probability"] for p in comp["ceac"]],
                    }
                ],
                _("probability"),
            )
        )
        body.append(
            '<p class="note">'
            + escape(
                _("Thresholds (USD per DALY averted), in order along the x axis: %(list)s")
                % {"list": labels}
            )
            + "</p>"
        )
    body += [
        f"<h2>{escape(scen['scenario'])}</h2>",
        _yearly_table(scen),
        f"<h2>{escape(base['scenario'])}</h2>",
        _yearly_table(base),
    ]
    return _page(_("Scenario comparison"), body)


TARGET_LABELS = {
    "hiv_prevalence": gettext_noop("HIV prevalence"),
    "hcv_prevalence": gettext_noop("Chronic HCV prevalence"),
    "overdose_deaths": gettext_noop("Overdose deaths per year"),
    "population_end": gettext_noop("People who inject drugs (end of year)"),
}


def calibration_charts(report: dict) -> list[str]:
    """One SVG per target: fitted trajectory and observations with their intervals."""
    traj = report["trajectory"]
    charts = []
    for target, label in TARGET_LABELS.items():
        pts = [
            {"x": o["year"], "value": o["value"], "low": o["low"], "high": o["high"]}
            for o in report["observations"]
            if o["target"] == target
        ]
        if not pts:
            continue
        charts.append(
            svg.line_chart(
                _(label),
                traj["years"],
                [{"label": _("model (fitted)"), "values": traj[target]}],
                "",
                points=pts,
                # The "%" is a percent sign, not a placeholder: this string is never %-formatted.
                # xgettext:no-python-format
                points_label=_("observed (95 % interval)"),
            )
        )
    return charts


def calibration_svg(report: dict) -> str:
    """The fit plots stacked into one standalone SVG document."""
    charts = calibration_charts(report)
    height = svg.HEIGHT * len(charts)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{svg.WIDTH}" height="{height}" '
        f'viewBox="0 0 {svg.WIDTH} {height}">',
    ]
    for i, chart in enumerate(charts):
        parts.append(f'<g transform="translate(0 {i * svg.HEIGHT})">{chart}</g>')
    parts.append("</svg>")
    return "\n".join(parts)


def calibration_report(report: dict) -> str:
    """HTML fit report: fitted values, observed vs modelled, and the fit plots."""
    rows = "".join(
        f"<tr><td>{escape(n)}</td><td>{report['start'][n]:.4g}</td><td>{v:.4g}</td></tr>"
        for n, v in report["fitted"].items()
    )
    obs = "".join(
        f"<tr><td>{escape(_(TARGET_LABELS[o['target']]))}</td><td>{o['year']}</td>"
        f"<td>{o['value']:.4g}</td><td>{o['model_start']:.4g}</td><td>{o['model']:.4g}</td></tr>"
        for o in report["observations"]
    )
    body = [
        f"<p>{escape(report['message'])}</p>",
        f"<table><tr><th>{escape(_('Parameter'))}</th><th>{escape(_('Start'))}</th>"
        f"<th>{escape(_('Fitted'))}</th></tr>{rows}</table>",
        f"<table><tr><th>{escape(_('Target'))}</th><th>{escape(_('Year'))}</th>"
        f"<th>{escape(_('Observed'))}</th><th>{escape(_('Model before'))}</th>"
        f"<th>{escape(_('Model after'))}</th></tr>{obs}</table>",
        *calibration_charts(report),
        f"<pre>{escape(report['parameters_toml'])}</pre>",
    ]
    return _page(_("Calibration report"), body)


def optimization_report(report: dict) -> str:
    """HTML report of a budget allocation."""
    rows = "".join(
        f"<tr><td>{escape(k)}</td><td>{format_figure(a['current_spend'])}</td>"
        f"<td>{a['current_coverage']:.2f}</td><td>{format_figure(a['spend'])}</td>"
        f"<td>{a['coverage']:.2f}</td></tr>"
        for k, a in report["allocation"].items()
    )
    outcomes = "".join(
        f"<tr><td>{escape(k)}</td><td>{format_figure(v)}</td></tr>"
        for k, v in report["outcomes"].items()
    )
    body = [
        f"<p>{escape(report['message'])}</p>",
        f"<table><tr><th>{escape(_('Programme'))}</th><th>{escape(_('Current spend'))}</th>"
        f"<th>{escape(_('Current coverage'))}</th><th>{escape(_('Optimal spend'))}</th>"
        f"<th>{escape(_('Coverage'))}</th></tr>{rows}</table>",
        f"<table><tr><th>{escape(_('Outcome over the horizon'))}</th>"
        f"<th>{escape(_('Value'))}</th></tr>{outcomes}</table>",
    ]
    return _page(_("Budget allocation"), body)
