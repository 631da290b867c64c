"""Property test: the DHIS2 exports say exactly what the suppressed indicator rows say.

Random small programs (the generator of test_oracle.py, some copied three or five times over
so that counts of 5 and more stand next to hidden ones) are written through the project's
actions and exported with ``salus export dhis2``, as DHIS2 ``dataValueSets`` JSON and as ADX
XML, with a mapping written here that sends several indicators (counts, proportions, a ratio,
a rate and a population-level coverage scaled to a percentage; the value, numerator and
denominator fields) by total, sex, age band, sex x age band and site. The rows the exports must
agree with are computed again here, for every indicator of the catalogue, and suppressed with
the program's threshold and against the other periods of their year (salus.indicators.release;
docs/exports.md, docs/indicators.md):

1. every data value of either export is the value of the row and cell the mapping sends there,
   after suppression, scaled as the mapping says, with the period, org unit and category
   option codes (the category option combo in JSON, category attributes in ADX) of that cell;
2. every mapped cell with a value after suppression is sent exactly once by each export, and
   nothing else is: no hidden or undefined value, and no cell whose own counts, before
   suppression, are small (1 to the threshold minus one);
3. the JSON and ADX exports carry the same data values.

A program that has no single top area and is exported without ``--area`` has no org unit for
its totals: the command must then stop and write nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st
from tests.indicators import test_oracle as oracle

from salus.cli import main
from salus.core.config import program_config
from salus.indicators.engine import compute_indicators
from salus.indicators.periods import parse_period
from salus.indicators.release import suppress_released

pytestmark = pytest.mark.django_db

# The oracle test's fixtures for generated programs (its third site, NB2, and the program's
# configured package), registered in this module too.
sites = oracle.sites
package_config = oracle.package_config

ADX = {"adx": "urn:ihe:qrph:adx:2015"}

# ---------------------------------------------------------------------------------------------
# The mapping: every code on the right-hand side is derived from the Salus side, so that a
# value sent to the wrong org unit, category option or combo cannot look right by accident.

AREAS = sorted({s["area"] for s in oracle.SCOPES if "area" in s})
ORG_UNITS = {key: "OU_" + key.replace("/", "_") for key in (*AREAS, *oracle.SITE_CODES, oracle.FOREIGN_SITE)}
SEX_OPTIONS = {"F": "SEX_FEMALE", "M": "SEX_MALE", "T": "SEX_TRANS", "X": "SEX_NOT_RECORDED"}
AGE_OPTIONS = {"<25": "AGE_LT25", "25+": "AGE_GE25", "unknown": "AGE_UNKNOWN"}
CATEGORIES = {"sex": ("SEX", SEX_OPTIONS), "age": ("AGE", AGE_OPTIONS)}

Cell = tuple[tuple[str, str], ...]  # a sex/age cell as sorted (dimension, value) pairs; () is the total


def _coc(cell: Cell) -> str:
    return "_".join(["COC", *(CATEGORIES[dim][1][value] for dim, value in cell)]) if cell else "default"


# The cells a mapping can send within one org unit, and the keys the mapping gives them in
# category_option_combos ("", "sex=F", "age=<25", "sex=F;age=<25": sex before age).
CELLS: list[Cell] = [(), *((("sex", s),) for s in SEX_OPTIONS), *((("age", a),) for a in AGE_OPTIONS),
                     *((("age", a), ("sex", s)) for s in SEX_OPTIONS for a in AGE_OPTIONS)]
COC_KEYS = {cell: ";".join(f"{dim}={dict(cell)[dim]}" for dim in ("sex", "age") if dim in dict(cell))
            for cell in CELLS}
COCS = {cell: _coc(cell) for cell in CELLS}
CELL_OF_COC = {coc: cell for cell, coc in COCS.items()}

# (indicator, data element, field, scale, cells sent)
RULES = (
    ("CLIENTS_REACHED", "DE_CLIENTS_REACHED", "value", 1, ("", "sex", "age", "sex+age", "site")),
    ("CONTACTS", "DE_CONTACTS", "value", 1, ("", "sex", "site")),
    ("SYRINGES_DISTRIBUTED", "DE_SYRINGES", "value", 1, ("", "age", "site")),
    ("NSP_COVERAGE", "DE_NSP_COVERAGE_PCT", "value", 100, ("", "sex")),
    ("NSP_COVERAGE", "DE_NSP_PROGRAMME_PCT", "programme_value", 100, ("", "sex+age", "site")),
    ("NSP_SYRINGES_PER_PWID", "DE_SYRINGES_PER_PWID", "value", 1, ("",)),
    ("HTS_PWID", "DE_PWID_TESTED", "numerator", 1, ("", "age", "site")),
    ("HTS_PWID", "DE_PWID_SEEN", "denominator", 1, ("", "sex")),
    ("OST_COVERAGE", "DE_OST_ON_TREATMENT", "numerator", 1, ("", "sex", "site")),
    ("SYRINGE_RETURN_RATE", "DE_RETURN_RATE", "value", 1, ("", "site")),
)


def _toml_table(d: dict[str, str]) -> str:
    return "{ " + ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in d.items()) + " }"


def mapping_text() -> str:
    lines = ['data_set = "DS_HRP"', "", "[org_units]"]
    lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in ORG_UNITS.items()]
    for dim, (category, options) in CATEGORIES.items():
        lines += ["", f"[categories.{dim}]", f'category = "{category}"', f"options = {_toml_table(options)}"]
    for indicator, element, field, scale, cells in RULES:
        lines += ["", "[[data_values]]", f'indicator = "{indicator}"', f'data_element = "{element}"',
                  f'field = "{field}"', f"scale = {scale}", f"cells = {json.dumps(list(cells))}",
                  f"category_option_combos = {_toml_table({COC_KEYS[c]: COCS[c] for c in CELLS})}"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# What the rows say, and what the files say, in the same terms:
# (data element, org unit, period as (first day, months), sex/age cell) -> value.

Key = tuple[str, str, tuple[dt.date, int], Cell]


def _kind(dis: dict) -> str | None:
    """The mapping's name for a row's cell (docs/exports.md); None for cells never sent."""
    return {(): "", ("sex",): "sex", ("age",): "age", ("age", "sex"): "sex+age",
            ("area", "site"): "site"}.get(tuple(sorted(dis)))


def mapped_cells(rows: list[dict], raw: list[dict], scope_org_unit: str | None,
                 period: tuple[dt.date, int]) -> dict[Key, tuple[str, float | None, dict, dict]]:
    """Every cell the mapping sends, with (field, scaled value after suppression, suppressed
    row, row before suppression)."""
    raw_by_cell = {(r["code"], tuple(sorted(r["disaggregation"].items()))): r for r in raw}
    out: dict[Key, tuple[str, float | None, dict, dict]] = {}
    for indicator, element, field, scale, cells in RULES:
        for row in rows:
            dis = row["disaggregation"]
            if row["code"] != indicator or _kind(dis) not in cells:
                continue
            # A site's cell is the total of the site's own org unit; every other cell belongs
            # to the org unit of the area exported.
            org_unit = ORG_UNITS[dis["site"]] if "site" in dis else scope_org_unit
            cell: Cell = () if "site" in dis else tuple(sorted(dis.items()))
            key = (element, org_unit, period, cell)
            assert key not in out, f"the test's mapping sends two cells to {key}"
            value = row[field]
            out[key] = (field, None if value is None else value * scale, row,
                        raw_by_cell[(indicator, tuple(sorted(dis.items())))])
    return out


def json_values(payload: dict) -> list[tuple[Key, str]]:
    assert (payload["idScheme"], payload["dataSet"]) == ("code", "DS_HRP")
    out = []
    for v in payload["dataValues"]:
        assert set(v) == {"dataElement", "period", "orgUnit", "categoryOptionCombo", "value"}, v
        # DHIS2's period codes: 2025, 2025Q1, 202503.
        assert re.fullmatch(r"\d{4}(Q[1-4]|\d{2})?", v["period"]), v
        p = parse_period(v["period"])
        out.append(((v["dataElement"], v["orgUnit"], (p.start, len(p.months())),
                     CELL_OF_COC[v["categoryOptionCombo"]]), v["value"]))
    return out


def adx_values(document: bytes) -> list[tuple[Key, str]]:
    root = ET.fromstring(document)
    assert root.tag == f"{{{ADX['adx']}}}adx"
    option_of = {category: ({code: value for value, code in options.items()}, dim)
                 for dim, (category, options) in CATEGORIES.items()}
    out = []
    for group in root.findall("adx:group", ADX):
        assert group.get("dataSet") == "DS_HRP"
        # ADX periods: first day and ISO 8601 duration.
        first, duration = group.get("period").split("/")
        period = (dt.date.fromisoformat(first), {"P1Y": 12, "P3M": 3, "P1M": 1}[duration])
        for v in group.findall("adx:dataValue", ADX):
            attrs = dict(v.attrib)
            element, value = attrs.pop("dataElement"), attrs.pop("value")
            # Every other attribute is a mapped category with one of its option codes.
            cell = tuple(sorted((option_of[cat][1], option_of[cat][0][code]) for cat, code in attrs.items()))
            out.append(((element, group.get("orgUnit"), period, cell), value))
    assert len(root) == len(root.findall("adx:group", ADX)), "elements other than groups"
    return out


def check_values(name: str, exported: list[tuple[Key, str]], mapped: dict, threshold: int) -> list[str]:
    """Properties 1 and 2 for one export; returns the differences, one line each."""
    problems = []
    counts = Counter(key for key, _v in exported)
    problems += [f"{name}: {key} sent {n} times" for key, n in counts.items() if n > 1]
    for key, text in exported:
        if key not in mapped:
            problems.append(f"{name}: {key} = {text} is no mapped cell")
            continue
        field, want, row, raw = mapped[key]
        if want is None:
            problems.append(f"{name}: {key} = {text}, but the row's {field} is hidden or undefined ({row['note']!r})")
            continue
        if float(text) != pytest.approx(want, rel=1e-9, abs=1e-12):
            problems.append(f"{name}: {key} = {text}, the row says {want!r}")
        elif float(want).is_integer() and text != str(int(want)):
            # A whole number is written as one: DHIS2 rejects "5.0" for an integer element.
            problems.append(f"{name}: {key} = {text!r}, not written as the whole number {int(want)}")
        # The counts the exported number is made of (the value of a proportion, ratio or
        # rate: both), before suppression: none may be small.
        own = (field,) if field in ("numerator", "denominator") else ("numerator", "denominator")
        small = [f"{f} {raw[f]}" for f in own if isinstance(raw[f], int) and 0 < raw[f] < threshold]
        if small:
            problems.append(f"{name}: {key} = {text} is sent, but its {', '.join(small)} is small")
    missing = [key for key, (_f, want, _r, _raw) in mapped.items() if want is not None and key not in counts]
    problems += [f"{name}: {key} = {mapped[key][1]!r} is not sent" for key in missing]
    return problems


# ---------------------------------------------------------------------------------------------
# Larger programs. The generated programs have a handful of clients, so nearly every count
# that is not zero is small and hidden; copies of the same program (other people with the same
# sex, birth year and records) give counts of 5 and more, shown next to hidden ones.


@dataclass(frozen=True)
class CopiedClient(oracle.ClientSpec):
    """Copy ``copy`` of the generated client ``original``."""

    original: int = 0
    copy: int = 0

    @property
    def uic(self) -> str:
        # The copy number as the father's first letter: a different person.
        return f"Q{chr(65 + self.original)}{chr(65 + self.copy)}Z{self.birth_year or 0:04d}{self.sex}"


def copies(spec: oracle.ProgramSpec, n: int) -> oracle.ProgramSpec:
    """``spec`` with every client, and every record about a client, there ``n`` times."""
    size = len(spec.clients)

    def each(records: list) -> list:
        return [replace(r, client=r.client + k * size) for k in range(n) for r in records]

    clients = [CopiedClient(c.number + k * size, c.sex, c.birth_year, c.injects, original=c.number, copy=k)
               for k in range(n) for c in spec.clients]
    return replace(spec, clients=clients, contacts=each(spec.contacts), episodes=each(spec.episodes),
                   overdoses=each(spec.overdoses), referrals=each(spec.referrals))


@st.composite
def programs(draw, period_labels: tuple[str, ...]) -> oracle.ProgramSpec:
    return copies(draw(oracle.programs(period_labels)), draw(st.sampled_from((1, 3, 5))))


# ---------------------------------------------------------------------------------------------
# The property.

PERIODS = ("2025", "2025Q1", "2025Q2", "2025Q3", "2025Q4", *(f"2025-{m:02d}" for m in range(1, 13)))

# 20 programs (each exported twice, its rows computed twice): a few seconds per database.
# No "explain" phase: it reruns failing examples many times over.
EXPORT_SETTINGS = settings(max_examples=20, deadline=None,
                           phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                           suppress_health_check=[HealthCheck.function_scoped_fixture])


def export(fmt: str, spec: oracle.ProgramSpec, area: str | None, mapping: Path, out: Path) -> int:
    """``salus export dhis2`` as an operator runs it."""
    out.unlink(missing_ok=True)
    argv = ["export", "dhis2", "--period", spec.period.label, "--format", fmt, "--mapping", str(mapping),
            "--as-of", spec.as_of.isoformat(), "--out", str(out)]
    return main(argv + (["--area", area] if area else []))


@EXPORT_SETTINGS
@given(spec=programs(PERIODS))
@example(spec=copies(oracle.edge_program("2025Q2"), 3))
def test_the_dhis2_exports_say_what_the_suppressed_rows_say(sites, record_contact, package_config, tmp_path,
                                                            capsys, spec):
    """Both exports of a random program against its suppressed rows (properties 1 to 3 of
    the module's docstring), for the generated area or the whole program."""
    note(oracle.describe(spec))
    package_config(spec.package)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(mapping_text(), encoding="utf-8")
    # The generated area scope, or the whole program (the command exports areas only).
    area = spec.scope.get("area")
    with transaction.atomic():
        oracle.record_program(spec, sites, record_contact)
        if area is None and spec.foreign_site:
            # Sites in two countries: no top area, so no org unit for the totals.
            for fmt in ("json", "adx"):
                assert export(fmt, spec, area, mapping, tmp_path / f"out.{fmt}") == 2
                assert not (tmp_path / f"out.{fmt}").exists()
            assert "no org unit" in capsys.readouterr().err
            transaction.set_rollback(True)
            return
        assert export("json", spec, area, mapping, tmp_path / "out.json") == 0
        assert export("adx", spec, area, mapping, tmp_path / "out.adx") == 0
        # The rows, computed again for every indicator (not only the mapped ones) and
        # suppressed here with the program's threshold, against the other periods of the year.
        raw = compute_indicators(spec.period.label, area=area, as_of=spec.as_of)
        rows = suppress_released(raw, area=area, site=None)
        transaction.set_rollback(True)
    threshold = program_config().suppression_threshold
    period = (spec.period.start, len(spec.period.months()))
    # The org unit of every cell but the sites': the area exported, or the program's top area.
    mapped = mapped_cells(rows, raw, ORG_UNITS[area or "XL"], period)
    note(f"mapped cells: {mapped}")
    from_json = json_values(json.loads((tmp_path / "out.json").read_text(encoding="utf-8")))
    from_adx = adx_values((tmp_path / "out.adx").read_bytes())
    problems = check_values("JSON", from_json, mapped, threshold) + check_values("ADX", from_adx, mapped, threshold)
    if set(from_json) != set(from_adx):
        problems.append(f"only in JSON: {sorted(set(from_json) - set(from_adx))}; "
                        f"only in ADX: {sorted(set(from_adx) - set(from_json))}")
    assert not problems, "\n".join(problems)
