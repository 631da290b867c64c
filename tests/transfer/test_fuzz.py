"""Generated CSV files never crash an import and never import half a file.

Each example builds a contacts file from good and hostile cells (formulas, huge fields, NUL
bytes, wrong encodings, BOMs, mixed line endings, missing or extra columns) and checks the
outcome: either a clean list of problems and nothing written, or every row imported.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from salus.clients.models import Client
from salus.services.models import Contact, Referral
from salus.stock.models import StockMovement
from salus.transfer.importers.contacts import COLUMNS
from salus.transfer.importing import run_import

from .helpers import GOOD_CONTACT

PROBLEM = re.compile(r"^line \d+(, column [^:]+)?: .+", re.DOTALL)

GOOD = {
    "date": ["2025-03-04", "2025-01-31", "2024-12-01"],
    "site": ["NA1", "SB1", " NA1 "],
    "uic": ["MAJO1985M", "abcd1990f", "ЖДМА2000T", "MA-JO-1985-M"],
    "sex": ["", "", "", "M"],
    "birth_year": ["", "", "", "1985"],
    "injects": ["yes", "no", "", "YES"],
    "education": ["yes", "no", ""],
    "hiv_test_result": ["", "negative", "positive", "not_given", "indeterminate"],
    "hcv_test_result": ["", "negative", "positive"],
    "referral_to": ["", "ost", "hiv_care"],
}
COUNTS = ["", "0", "3", "20", "100000"]
HOSTILE = ["=1+2", "+1", "-1", "@SUM(A1)", "\t7", "\r", "\n", '"', "x" * 12_000, "\x00", "é", "💉",
           "1e3", " ", "NaN", "2025-13-01", "0x10"]


def cell(column):
    """Mostly good cells, so that whole files get imported too; now and then a hostile one."""
    good = GOOD.get(column, COUNTS)

    def pick(k):
        if k == 0:
            return st.sampled_from(HOSTILE)
        if k == 1:
            return st.text(max_size=8)
        return st.sampled_from(good)

    return st.integers(0, 40).flatmap(pick)


row = st.fixed_dictionaries({c: cell(c) for c in COLUMNS})


@st.composite
def csv_file(draw):
    columns = list(COLUMNS)
    shape = draw(st.sampled_from(["same"] * 6 + ["missing", "extra", "shuffled"]))
    if shape == "missing":
        columns.remove(draw(st.sampled_from(columns)))
    elif shape == "extra":
        columns.append(draw(st.sampled_from(["notes", "", "=cmd"])))
    elif shape == "shuffled":
        columns = draw(st.permutations(columns))
    rows = draw(st.lists(row, min_size=0, max_size=6))
    if draw(st.booleans()):
        rows.insert(0, dict(GOOD_CONTACT))
    lines = [",".join(columns)]
    for r in rows:
        cells = []
        for c in columns:
            v = r.get(c, "x")
            if any(ch in v for ch in ',"\r\n') and draw(st.booleans()):
                v = '"' + v.replace('"', '""') + '"'
            cells.append(v)
        lines.append(",".join(cells))
    endings = [draw(st.sampled_from(["\n", "\r\n", "\r"])) for _ in lines]
    text = "".join(line + end for line, end in zip(lines, endings, strict=True))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16", "cp1251"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 9)) == 0:
        data = data[: draw(st.integers(0, len(data)))]  # a truncated file
    return data


def state():
    return (Contact.objects.count(), Client.objects.count(), Referral.objects.count(), StockMovement.objects.count())


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=csv_file())
def test_an_import_is_whole_or_nothing_and_never_crashes(program, data):
    before = state()
    result = run_import("contacts", data, "cli")
    after = state()
    event("imported" if result.ok else "refused")
    if result.ok:
        assert not result.problems
        rows = result.counts["rows"]
        assert result.counts["contacts_created"] + result.counts["contacts_skipped"] == rows
        assert after[0] == before[0] + result.counts["contacts_created"]
    else:
        assert result.problems
        assert after == before
        for p in result.problems:
            assert PROBLEM.match(str(p)), str(p)


KINDS = ["sites", "ost", "pse", "contacts"]
any_cell = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12), st.sampled_from(
    ["NA1", "XL/NORTH/N1", "N1", "drop_in", "methadone", "2025-01-01", "", "pwid", "2025", "100", "MAJO1985M"]))


@st.composite
def any_file(draw):
    from salus.transfer.registry import importer

    kind = draw(st.sampled_from(KINDS))
    columns = list(importer(kind).COLUMNS)
    if draw(st.integers(0, 4)) == 0:
        columns = draw(st.lists(st.sampled_from([*columns, "x", ""]), max_size=len(columns) + 1))
    rows = draw(st.lists(st.lists(any_cell, min_size=len(columns), max_size=len(columns)), max_size=5))
    text = "\r\n".join(",".join('"' + c.replace('"', '""') + '"' for c in r) for r in [columns, *rows])
    data = text.encode(draw(st.sampled_from(["utf-8", "utf-16", "latin-1"])), errors="replace")
    if draw(st.booleans()):
        data = draw(st.binary(max_size=200))
    return kind, data


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=any_file())
def test_no_kind_of_file_crashes_an_import(program, case):
    from salus.core.models import Area, PopulationSizeEstimate, Site
    from salus.services.models import OSTEpisode

    kind, data = case

    def counts():
        return (Site.objects.count(), Area.objects.count(), PopulationSizeEstimate.objects.count(),
                OSTEpisode.objects.count(), *state())

    before = counts()
    result = run_import(kind, data, "cli")
    event(f"{kind} {'imported' if result.ok else 'refused'}")
    if not result.ok:
        assert result.problems and counts() == before
        assert all(PROBLEM.match(str(p)) for p in result.problems)
