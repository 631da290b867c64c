"""The ``salus model`` command: exit codes, JSON shape, reports."""

from __future__ import annotations

import argparse
import json

import pytest

from salus.model import cli, scenarios


def run_cli(argv, capsys):
    parser = argparse.ArgumentParser(prog="salus")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["model", *argv])
    code = args.func(args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def example(tmp_path):
    path = tmp_path / "example.toml"
    path.write_text(scenarios.EXAMPLE)
    return path


def test_example_prints_a_scenario_that_parses(capsys):
    code, out, _err = run_cli(["example"], capsys)
    assert code == 0 and scenarios.validate(__import__("tomllib").loads(out))


def test_run_json_has_years_and_totals(example, capsys):
    code, out, _err = run_cli(["run", str(example), "--set", "years=3", "--format", "json"], capsys)
    data = json.loads(out)
    assert code == 0 and len(data["years"]) == 3
    for key in (
        "population_start",
        "population_end",
        "entries",
        "exits",
        "new_hiv_infections",
        "new_hcv_infections",
        "overdose_deaths",
        "deaths",
        "hiv_prevalence",
        "hcv_prevalence",
        "cost",
        "dalys",
    ):
        assert key in data["years"][0], f"every year should report {key}"
        assert key in data["totals"], f"totals should report {key}"
    assert isinstance(data["years"][0]["overdose_deaths"], float)


def test_run_with_samples_gives_value_low_high(example, capsys):
    code, out, _err = run_cli(
        [
            "run",
            str(example),
            "--set",
            "years=2",
            "--samples",
            "20",
            "--seed",
            "4",
            "--workers",
            "1",
            "--format",
            "json",
        ],
        capsys,
    )
    fig = json.loads(out)["years"][1]["new_hiv_infections"]
    assert code == 0 and set(fig) == {"value", "low", "high"}
    assert fig["low"] <= fig["high"], "the interval should be ordered"


def test_run_writes_a_self_contained_report(example, tmp_path, capsys):
    report = tmp_path / "report.html"
    code, out, _err = run_cli(
        ["run", str(example), "--set", "years=3", "--out", str(report)], capsys
    )
    html = report.read_text()
    assert code == 0 and "<svg" in html and "Total" in out
    assert "<script" not in html, "the site's CSP forbids inline scripts"
    assert "src=" not in html and "href=" not in html, "no external assets"


def test_unknown_key_is_a_clear_error(example, capsys):
    code, _out, err = run_cli(["run", str(example), "--set", "coverage.osst=0.3"], capsys)
    assert code == 2 and "unknown scenario key 'coverage.osst'" in err


def test_ray_without_ray_installed_says_how_to_install(example, capsys):
    try:
        import ray  # noqa: F401
    except ImportError:
        code, _out, err = run_cli(["run", str(example), "--ray", "auto"], capsys)
        assert code == 2 and "salus[cluster]" in err
    else:  # pragma: no cover
        pytest.skip("ray is installed")


def test_from_db_needs_area_and_year(capsys):
    code, _out, err = run_cli(["run", "--from-db"], capsys)
    assert code == 2 and "--area" in err


def test_compare_calibrate_optimize_run(example, tmp_path, capsys):
    code, out, _err = run_cli(["compare", str(example), "--set", "years=5"], capsys)
    assert code == 0 and "DALYs averted" in out
    plot = tmp_path / "fit.svg"
    code, out, _err = run_cli(
        ["calibrate", str(example), "--format", "json", "--plot", str(plot)], capsys
    )
    assert code == 0 and "fitted" in json.loads(out)
    __import__("xml.dom.minidom").dom.minidom.parseString(plot.read_text())
    code, out, _err = run_cli(
        [
            "optimize",
            str(example),
            "--set",
            "years=5",
            "--budget",
            "2e6",
            "--out",
            str(tmp_path / "o.html"),
        ],
        capsys,
    )
    assert code == 0 and "annual spend" in out
