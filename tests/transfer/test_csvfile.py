"""File-level checks (encoding, header, shape) and formula neutralisation on export."""

from __future__ import annotations

import io

import pytest

from salus.services.models import Contact
from salus.transfer.csvfile import neutralise, write_csv
from salus.transfer.importers.contacts import COLUMNS
from salus.transfer.importing import run_import

from .helpers import GOOD_CONTACT, contact, contacts_file, csv_bytes


def problems(data: bytes) -> list[str]:
    result = run_import("contacts", data, "cli")
    assert not result.ok
    assert Contact.objects.count() == 0
    return [str(p) for p in result.problems]


def test_a_byte_order_mark_is_accepted(program):
    assert run_import("contacts", contacts_file(contact(), encoding="utf-8-sig"), "cli").ok


def test_mixed_line_endings_are_accepted(program):
    lines = contacts_file(contact(), contact(date="2025-03-05"), contact(date="2025-03-06"), newline="\n").split(b"\n")
    data = lines[0] + b"\r\n" + lines[1] + b"\n" + lines[2] + b"\r" + lines[3] + b"\n"
    result = run_import("contacts", data, "cli")
    assert result.ok, result.problems
    assert result.counts["contacts_created"] == 3


def test_blank_lines_are_skipped(program):
    data = contacts_file(contact()) + b"\r\n\r\n"
    assert run_import("contacts", data, "cli").counts["contacts_created"] == 1


@pytest.mark.parametrize(("encoding", "expected"), [
    ("utf-16", "line 1: the file is UTF-16 text; save it as UTF-8 CSV"),
    ("latin-1", "line 3: the file is not UTF-8 text (byte 0xe9); save it as UTF-8 CSV"),
])
def test_it_refuses_other_encodings(program, encoding, expected):
    data = contacts_file(contact(), contact(site="Café"), encoding=encoding)
    assert problems(data) == [expected]


def test_it_refuses_nul_bytes(program):
    data = contacts_file(contact(), contact()).replace(b"MAJO", b"MA\x00O", 2)
    assert problems(data) == ["line 2: the file contains a NUL byte; it is not a text CSV file"]


def test_it_refuses_an_empty_file(program):
    assert problems(b"") == ["line 1: the file is empty; the first line must name the columns"]


def test_it_names_unknown_missing_and_repeated_columns(program):
    columns = [c for c in COLUMNS if c != "education"] + ["notes", "site"]
    found = problems(csv_bytes(columns, [GOOD_CONTACT]))
    assert found == [
        "line 1, column notes: unknown column; the columns are: " + ",".join(COLUMNS),
        "line 1, column site: this column is named twice",
        "line 1, column education: this column is missing",
    ]


def test_columns_may_come_in_any_order(program):
    columns = list(reversed(COLUMNS))
    result = run_import("contacts", csv_bytes(columns, [GOOD_CONTACT]), "cli")
    assert result.ok and Contact.objects.get().syringes_given == 20


def test_a_row_with_too_many_or_too_few_cells_is_named(program):
    data = contacts_file(contact()) + b"2025-03-04,NA1\r\n" + contacts_file(contact()).split(b"\r\n")[1] + b",extra\r\n"
    assert problems(data) == [
        "line 3: this row has 2 cells; the header names 14 columns",
        "line 4: this row has 15 cells; the header names 14 columns",
    ]


def test_a_huge_cell_is_refused_without_reading_it_as_data(program):
    data = contacts_file(contact(site="X" * 20_000))
    assert problems(data) == ["line 2, column site: this cell is longer than 10000 characters"]


@pytest.mark.parametrize("cell", [
    "X" * 10_001,  # not quoted: the file's longest line says whether rows need a check
    "X" * 6_000 + "\n" + "X" * 6_000,  # quoted, over a line break: every line is short
    ("X" * 3_000 + "\x0c") * 4,  # characters other tools take for line breaks; the csv module does not
    ("X" * 3_000 + "\r") * 4,
], ids=["plain", "quoted-newline", "form-feed", "carriage-return"])
def test_a_long_cell_is_found_however_it_is_written(program, cell):
    data = contacts_file(contact(), contact(site=cell))
    assert (b'"' in data) == ("\n" in cell or "\r" in cell)  # the writer quotes only those
    assert problems(data) == ["line 3, column site: this cell is longer than 10000 characters"]


def test_a_cell_of_the_longest_allowed_length_is_read(program):
    data = contacts_file(contact(), contact(uic="MAJO1985M" + " " * 9_991))
    assert run_import("contacts", data, "cli").ok


def test_a_broken_quote_is_a_problem_not_a_crash(program):
    data = contacts_file(contact()) + b'2025-03-04,"NA1"x,MAJO1985M\r\n'
    found = problems(data)
    assert len(found) == 1 and found[0].startswith("line 3: this line cannot be read as CSV")


@pytest.mark.parametrize("text", ["=1+2", "+31 555", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formulas_are_neutralised(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["plain", "", None, 12, "a=b", "1-2"])
def test_other_cells_are_left_as_they_are(value):
    assert neutralise(value) == ("" if value is None else str(value))


def test_write_csv_neutralises_every_cell_and_header():
    out = io.StringIO()
    n = write_csv(out, ["=id", "name"], [["=HYPERLINK(\"x\")", "ok"], [-3, "@x"]])
    assert n == 2
    assert out.getvalue() == "'=id,name\r\n\"'=HYPERLINK(\"\"x\"\")\",ok\r\n'-3,'@x\r\n"
