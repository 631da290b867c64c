"""Reading and writing the CSV files that Salus imports and exports.

Reading is strict, because an import is all or nothing: the file must be UTF-8 (a byte order
mark is allowed and ignored), must hold no NUL byte, and its header must name exactly the
columns of its kind, each once, in any order. Every problem found is kept as a
:class:`Problem` (file line, column, message) so that the person fixing the file sees all of
them at once, not one per attempt.

Writing neutralises spreadsheet formulas: a cell that starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return gets a leading apostrophe, so that opening an export in a
spreadsheet never runs anything.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _

# Fields longer than this are refused with a problem rather than read into memory whole.
MAX_FIELD_CHARS = 10_000

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input file. ``line`` counts from 1 (the header is line 1)."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.column:
            return _("line %(line)d, column %(column)s: %(message)s") % {
                "line": self.line, "column": self.column, "message": self.message,
            }
        return _("line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


class ProblemList(list):
    """Problems in file order; ``add`` keeps call sites short."""

    def add(self, line: int, column: str, message: str) -> None:
        self.append(Problem(line, column, message))


@dataclass
class Table:
    """The header and rows of a CSV file that passed the file-level checks.

    ``rows`` yields (line number of the row's first line, values in ``columns`` order), once:
    rows are read as they are checked, so a large file is never held as lists of cells.
    ``count`` is the number of rows yielded so far; ``lines`` the file's line count, for
    progress bars.
    """

    columns: tuple[str, ...]
    rows: Iterator[tuple[int, list[str]]]
    lines: int = 0
    count: int = 0


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode(data: bytes, problems: ProblemList) -> str | None:
    """The text of ``data`` as UTF-8 (BOM stripped), or None with a problem recorded."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        problems.add(1, "", _("the file is UTF-16 text; save it as UTF-8 CSV"))
        return None
    nul = data.find(b"\x00")
    if nul >= 0:
        problems.add(_line_of_offset(data, nul), "", _("the file contains a NUL byte; it is not a text CSV file"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.add(
            _line_of_offset(data, exc.start), "",
            _("the file is not UTF-8 text (byte 0x%(byte)02x); save it as UTF-8 CSV") % {"byte": data[exc.start]},
        )
        return None


def read_table(data: bytes, columns: tuple[str, ...], problems: ProblemList) -> Table | None:
    """Parse ``data`` as a CSV file with exactly ``columns``; rows are reordered to ``columns``.

    Returns None when the file cannot be read at all (encoding, header); row-level problems
    (wrong number of cells, a cell too long) are recorded and the row left out of the table.
    """
    text = decode(data, problems)
    if text is None:
        return None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        problems.add(1, "", _("the file is empty; the first line must name the columns"))
        return None
    except csv.Error as exc:
        problems.add(1, "", _("the header line cannot be read as CSV (%(error)s)") % {"error": str(exc)})
        return None
    header = [h.strip() for h in header]
    if not _check_header(header, columns, problems):
        return None
    order = [header.index(c) for c in columns]
    table = Table(tuple(columns), iter(()), lines=text.count("\n") or text.count("\r"))
    table.rows = _rows(reader, header, order, table, problems, check_lengths=_may_hold_long_cells(text))
    return table


def _may_hold_long_cells(text: str) -> bool:
    """False when no cell of ``text`` can be longer than MAX_FIELD_CHARS, so rows need no check.

    Without a quote character no cell spans a line break, so none is longer than the longest
    run of text between two newlines (a bound: carriage returns end lines too).
    """
    if '"' in text:
        return True
    return max(map(len, text.split("\n"))) > MAX_FIELD_CHARS


def _rows(reader, header: list[str], order: list[int], table: Table, problems: ProblemList, *,
          check_lengths: bool = True):
    identity = order == list(range(len(order)))
    width = len(order)
    start = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.add(start, "", _("this line cannot be read as CSV (%(error)s)") % {"error": str(exc)})
            # The csv module resumes at the next physical line after an error.
            start = reader.line_num + 1
            continue
        line = start
        start = reader.line_num + 1
        if not values:
            continue  # a blank line
        if len(values) != width:
            if len(values) == 1 and not values[0].strip():
                continue  # a line of spaces only
            problems.add(
                line, "",
                _("this row has %(found)d cells; the header names %(expected)d columns")
                % {"found": len(values), "expected": width},
            )
            continue
        if check_lengths and max(map(len, values)) > MAX_FIELD_CHARS:
            for i in [i for i, v in enumerate(values) if len(v) > MAX_FIELD_CHARS]:
                problems.add(line, header[i], _("this cell is longer than %(n)d characters") % {"n": MAX_FIELD_CHARS})
            continue
        table.count += 1
        yield line, (values if identity else [values[i] for i in order])


def _check_header(header: list[str], columns: tuple[str, ...], problems: ProblemList) -> bool:
    ok = True
    seen = set()
    for name in header:
        if name in seen:
            problems.add(1, name, _("this column is named twice"))
            ok = False
        seen.add(name)
        if name not in columns:
            problems.add(
                1, name or '""',
                _("unknown column; the columns are: %(columns)s") % {"columns": ",".join(columns)},
            )
            ok = False
    for name in columns:
        if name not in seen:
            problems.add(1, name, _("this column is missing"))
            ok = False
    return ok


def neutralise(value) -> str:
    """The cell text for ``value``, with a leading apostrophe if a spreadsheet would run it."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def write_csv(out, columns: Iterable[str], rows: Iterable[Iterable]) -> int:
    """Write a header and ``rows`` to the text stream ``out``; every cell neutralised.

    Returns the number of data rows written.
    """
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in columns])
    n = 0
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
        n += 1
    return n


def iter_chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
