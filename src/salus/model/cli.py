"""``salus model ...``: run, compare, calibrate and optimise scenarios from the command line.

The main ``salus`` command calls ``register(subparsers)`` and then ``args.func(args)``; every
handler returns an exit code (0 success, 2 bad input). ``python -m salus.model`` runs the same
commands without Django.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib

from . import scenarios
from .i18n import _, gettext_noop
from .parallel import ClusterUnavailable

PROGRESS_MIN_SAMPLES = 200  # below this a sampled run takes under a couple of seconds


def _common(p: argparse.ArgumentParser, scenario_required: bool = True) -> None:
    p.add_argument(
        "scenario",
        nargs=None if scenario_required else "?",
        metavar="SCENARIO.toml",
        help=_("scenario file (see 'salus model example')"),
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=_("override a scenario key, dotted path (repeatable), e.g. coverage.ost=0.4"),
    )
    p.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help=_("output format on standard output"),
    )
    p.add_argument(
        "--out", metavar="report.html", help=_("also write a self-contained HTML report")
    )


def _sampling(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--samples",
        type=int,
        default=0,
        help=_("Latin hypercube parameter samples for 95 %% intervals (0: none)"),
    )
    p.add_argument("--seed", type=int, default=0, help=_("seed of the random streams"))
    p.add_argument(
        "--workers", type=int, default=None, help=_("local processes (default: all cores)")
    )
    p.add_argument(
        "--ray", metavar="ADDRESS", help=_("run samples on a Ray cluster (needs salus[cluster])")
    )


def _from_db(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--from-db",
        action="store_true",
        help=_("build the scenario from the programme's indicators"),
    )
    p.add_argument("--area", help=_("area code for --from-db"))
    p.add_argument("--year", type=int, help=_("indicator year for --from-db"))


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``model`` command and its sub-commands to ``subparsers``."""
    model = subparsers.add_parser(
        "model",
        help=_("Impact and cost-effectiveness model of HIV, HCV and overdose"),
        description=_("Deterministic compartmental model of people who inject drugs."),
    )
    sub = model.add_subparsers(dest="model_command", metavar="SUBCOMMAND")
    model.set_defaults(func=lambda args: _help(model))

    p = sub.add_parser("example", help=_("print a commented example scenario"))
    p.set_defaults(func=cmd_example)

    p = sub.add_parser("run", help=_("run one scenario"))
    _common(p, scenario_required=False)
    _sampling(p)
    _from_db(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("compare", help=_("compare a scenario with its baseline"))
    _common(p, scenario_required=False)
    _sampling(p)
    _from_db(p)
    p.add_argument(
        "--baseline",
        metavar="BASELINE.toml",
        help=_("compare with this scenario instead of the [baseline] table"),
    )
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("calibrate", help=_("fit uncertain rates to observed data"))
    _common(p, scenario_required=False)
    _from_db(p)
    p.add_argument("--plot", metavar="fit.svg", help=_("also write the fit plots as an SVG file"))
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("optimize", help=_("allocate a budget over the six programmes"))
    _common(p, scenario_required=False)
    _from_db(p)
    p.add_argument("--budget", type=float, help=_("annual budget in USD"))
    p.add_argument("--objective", help=_("dalys, infections, deaths, ... or weighted"))
    p.add_argument(
        "--target",
        metavar="OUTCOME=REDUCTION",
        help=_(
            "instead: least money reaching this reduction vs today, e.g. new_hiv_infections=0.3"
        ),
    )
    p.set_defaults(func=cmd_optimize)
    return model


def _help(parser) -> int:
    parser.print_help()
    return 0


def _error(message: str) -> int:
    print(_("error: %(message)s") % {"message": message}, file=sys.stderr)
    return 2


def _load(args) -> dict:
    if getattr(args, "from_db", False):
        return _scenario_from_db(args)
    if not args.scenario:
        raise scenarios.ScenarioError(_("a scenario file is needed (or --from-db)"))
    try:
        with open(args.scenario, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise scenarios.ScenarioError(str(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise scenarios.ScenarioError(
            _("%(file)s is not valid TOML: %(error)s") % {"file": args.scenario, "error": exc}
        ) from None
    return scenarios.apply_set(data, args.set)


def _scenario_from_db(args) -> dict:
    if not args.area or not args.year:
        raise scenarios.ScenarioError(_("--from-db needs --area and --year"))
    try:
        from salus.indicators.engine import compute_indicators  # noqa: F401, PLC0415
    except ImportError:
        raise _FromDbUnavailable(
            _("the indicator engine (salus.indicators.engine) is not available")
        ) from None
    # the database side (area lookup, PSE table, indicator engine) lives in program_data
    from .program_data import ProgramDataError, scenario_from_db  # noqa: PLC0415

    try:
        scenario = scenario_from_db(args.area, args.year)
    except ProgramDataError as exc:
        raise scenarios.ScenarioError(str(exc)) from None
    except Exception as exc:  # database or settings problems: report, do not trace
        raise _FromDbUnavailable(
            _("could not compute the indicators: %(error)s") % {"error": exc}
        ) from None
    return scenarios.apply_set(scenario, args.set)


class _FromDbUnavailable(RuntimeError):
    pass


def _progress_kwargs(args):
    if args.ray:
        from .parallel import _ray  # noqa: PLC0415

        _ray()  # fail early with the install hint, even when no samples are run
    kwargs = {"workers": args.workers, "ray_address": args.ray}
    if args.samples >= PROGRESS_MIN_SAMPLES and sys.stderr.isatty():
        from tqdm import tqdm  # noqa: PLC0415

        from .api import CHUNK  # noqa: PLC0415

        bar = tqdm(total=-(-args.samples // CHUNK), desc=_("sample batches"), file=sys.stderr)
        kwargs["progress"] = bar.update
        return kwargs, bar
    return kwargs, None


def _write(path: str | None, html: str) -> None:
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(html)
        print(_("report written to %(path)s") % {"path": path}, file=sys.stderr)


def _guard(func):
    """Turn expected input errors into a message and exit code 2."""

    def wrapper(args) -> int:
        from .calibration import CalibrationError  # noqa: PLC0415
        from .optimization import OptimizationError  # noqa: PLC0415

        try:
            return func(args)
        except (
            scenarios.ScenarioError,
            CalibrationError,
            OptimizationError,
            ClusterUnavailable,
            _FromDbUnavailable,
        ) as exc:
            return _error(str(exc))

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def cmd_example(args) -> int:
    """Print the example scenario."""
    sys.stdout.write(scenarios.EXAMPLE)
    return 0


TABLE_COLUMNS = (
    ("year", None, gettext_noop("Year")),
    ("population_end", None, gettext_noop("PWID")),
    ("new_hiv_infections", None, gettext_noop("HIV inf.")),
    ("new_hcv_infections", None, gettext_noop("HCV inf.")),
    ("overdose_deaths", None, gettext_noop("OD deaths")),
    ("hiv_prevalence", None, gettext_noop("HIV prev.")),
    ("hcv_prevalence", None, gettext_noop("HCV prev.")),
    ("cost", "total", gettext_noop("Cost USD")),
    ("dalys", None, gettext_noop("DALYs")),
)


def _cell(fig, key) -> str:
    def f(v):
        if v is None:
            return "-"
        if key.endswith("prevalence"):
            return f"{v:.3f}"
        if key == "year":
            return str(v)
        return f"{v:,.0f}"

    if isinstance(fig, dict):
        return f"{f(fig['value'])} [{f(fig['low'])}-{f(fig['high'])}]"
    return f(fig)


def format_table(result: dict) -> str:
    """Plain-text table of a run result (one line per year, then totals)."""
    header = [_(label) for _k, _s, label in TABLE_COLUMNS]
    rows = [
        [_cell(y[k][s] if s else y[k], k) for k, s, _label in TABLE_COLUMNS]
        for y in result["years"]
    ]
    tot = result["totals"]
    total_row = [_("Total")]
    for k, s, _label in TABLE_COLUMNS[1:]:
        if k in ("population_end", "hiv_prevalence", "hcv_prevalence"):
            total_row.append(_cell(tot[k], k))  # value at the end of the horizon
        else:
            total_row.append(_cell(tot[k][s] if s else tot[k], k))
    rows.append(total_row)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [result["scenario"]]
    lines.append("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        lines.append("  ".join(str(c).rjust(w) for c, w in zip(r, widths, strict=True)))
    if result["samples"]:
        lines.append(
            _("[low-high]: 95 %% interval over %(n)s samples, seed %(seed)s")
            % {"n": result["samples"], "seed": result["seed"]}
        )
    return "\n".join(lines)


@_guard
def cmd_run(args) -> int:
    """Run one scenario and print the yearly results."""
    from . import api, report  # noqa: PLC0415

    scenario = _load(args)
    kwargs, bar = _progress_kwargs(args)
    try:
        result = api.run_scenario_dict(scenario, samples=args.samples, seed=args.seed, **kwargs)
    finally:
        if bar:
            bar.close()
    if args.format == "json":
        print(json.dumps(result, indent=2))
    else:
        print(format_table(result))
    _write(args.out, report.run_report(result))
    return 0


def format_comparison(comp: dict) -> str:
    """Plain-text summary of a comparison."""
    from .report import (  # noqa: PLC0415
        COMPARISON_ROWS,
        cost_effectiveness_sentence,
        format_figure,
    )

    c = comp["comparison"]
    lines = [
        _("%(a)s compared with %(b)s")
        % {"a": comp["scenario"]["scenario"], "b": comp["baseline"]["scenario"]}
    ]
    for key, label, digits in COMPARISON_ROWS:
        lines.append(f"  {_(label)}: {format_figure(c[key], digits)}")
    lines.append("  " + cost_effectiveness_sentence(c))
    return "\n".join(lines)


@_guard
def cmd_compare(args) -> int:
    """Compare a scenario with its baseline and print averted outcomes and ICERs."""
    from . import api, report  # noqa: PLC0415

    scenario = _load(args)
    baseline = None
    if args.baseline:
        with open(args.baseline, "rb") as fh:
            baseline = scenarios.validate(tomllib.load(fh))
    kwargs, bar = _progress_kwargs(args)
    try:
        comp = api.compare_dicts(scenario, baseline, samples=args.samples, seed=args.seed, **kwargs)
    finally:
        if bar:
            bar.close()
    if args.format == "json":
        print(json.dumps(comp, indent=2))
    else:
        print(format_comparison(comp))
    _write(args.out, report.compare_report(comp))
    return 0


@_guard
def cmd_calibrate(args) -> int:
    """Fit the scenario's uncertain rates to its observations and print the fit report."""
    from . import calibration, report  # noqa: PLC0415

    rep = calibration.calibrate(_load(args))
    if args.format == "json":
        print(json.dumps(rep, indent=2))
    else:
        print(
            _("Calibration: %(msg)s (%(n)s model runs, %(s).1f s)")
            % {"msg": rep["message"], "n": rep["evaluations"], "s": rep["seconds"]}
        )
        for o in rep["observations"]:
            print(
                f"  {o['target']} {o['year']}: {_('observed')} {o['value']:.4g}, "
                f"{_('model')} {o['model_start']:.4g} -> {o['model']:.4g}"
            )
        print(rep["parameters_toml"], end="")
    _write(args.out, report.calibration_report(rep))
    _write(args.plot, report.calibration_svg(rep))
    return 0


@_guard
def cmd_optimize(args) -> int:
    """Allocate a budget (or find the least budget reaching a target) and print it."""
    from . import optimization, report  # noqa: PLC0415

    scenario = _load(args)
    if args.objective:
        scenario = scenarios.apply_set(scenario, [f'optimization.objective="{args.objective}"'])
    bar = None
    progress = None
    if sys.stderr.isatty():
        from tqdm import tqdm  # noqa: PLC0415

        bar = tqdm(desc=_("optimiser iterations"), file=sys.stderr)
        progress = bar.update
    try:
        if args.target:
            if "=" not in args.target:
                return _error(_("--target expects OUTCOME=REDUCTION"))
            outcome, reduction = args.target.split("=", 1)
            try:
                rep = optimization.minimum_budget(
                    scenario, outcome.strip(), float(reduction), progress=progress
                )
            except ValueError as exc:
                return _error(str(exc))
        else:
            rep = optimization.optimize(scenario, args.budget, progress=progress)
    finally:
        if bar:
            bar.close()
    if args.format == "json":
        print(json.dumps(rep, indent=2))
    else:
        print(
            _("Allocation (%(msg)s, %(n)s model runs, %(s).1f s)")
            % {"msg": rep["message"], "n": rep["model_runs"], "s": rep["seconds"]}
        )
        for k, a in rep["allocation"].items():
            print(
                f"  {k:14s} {a['spend']:>14,.0f} USD/yr  {_('coverage')} {a['coverage']:.2f}"
                f"  ({_('now')} {a['current_coverage']:.2f})"
            )
        print(f"  {_('annual spend')}: {rep['annual_spend']:,.0f} USD")
        if "target_value" in rep:
            print(
                "  "
                + _("target %(target)s: %(value)s or fewer; reached %(reached)s (%(met)s)")
                % {
                    "target": rep["objective"],
                    "value": f"{rep['target_value']:,.0f}",
                    "reached": f"{rep['reached_value']:,.0f}",
                    "met": _("met") if rep["target_met"] else _("not met"),
                }
            )
        for k, v in rep["outcomes"].items():
            print(f"  {k}: {v:,.0f}")
    _write(args.out, report.optimization_report(rep))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m salus.model ...`` (no Django needed)."""
    parser = argparse.ArgumentParser(prog="python -m salus.model")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    register(sub)
    args = parser.parse_args(["model", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)
