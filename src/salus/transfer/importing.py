"""Running an import: read, check every row, then write everything or nothing.

Each kind of file is one module in ``salus.transfer.importers`` with ``COLUMNS`` (the header),
``parse(table, ctx, problems)`` (checks every row, touches nothing, returns the parsed rows) and
``apply(ctx, parsed)`` (writes them in the caller's transaction and returns counts). The kinds
are listed in ``salus.transfer.registry``. :func:`run_import` ties them together: if ``parse``
found any problem, nothing is written.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction

from salus.core import access, audit
from salus.transfer.bulk import gc_paused
from salus.transfer.csvfile import ProblemList, read_table

if TYPE_CHECKING:
    from salus.core.models import User


@dataclass
class ImportContext:
    """Who imports, and facts about the file that every kind needs.

    ``actor`` is a User (whose sites limit what the file may touch) or a plain name such as
    ``"cli"`` for the operator's shell, which may touch every site.
    """

    actor: User | str
    sha256: str = ""
    progress: bool = False
    source: str = "import"

    @property
    def site_ids(self) -> set | None:
        """Ids of the sites the file may touch; None means every site."""
        actor = self.actor
        if isinstance(actor, str) or getattr(actor, "pk", None) is None:
            return None
        return access.site_ids(actor)


@dataclass
class ImportResult:
    kind: str
    ok: bool
    problems: ProblemList = field(default_factory=ProblemList)
    counts: dict = field(default_factory=dict)


def run_import(kind: str, data: bytes, actor: User | str, *, dry_run: bool = False, progress: bool | None = None) -> ImportResult:
    """Import ``data`` (the bytes of a CSV file) as ``kind``; all rows or none.

    ``progress`` None shows a progress bar only when standard error is a terminal.
    With ``dry_run`` the file is checked and nothing is written.
    """
    from salus.transfer.registry import importer

    module = importer(kind)
    ctx = ImportContext(
        actor=actor,
        sha256=hashlib.sha256(data).hexdigest(),
        progress=sys.stderr.isatty() if progress is None else progress,
    )
    problems = ProblemList()
    with gc_paused():
        table = read_table(data, module.COLUMNS, problems)
        if table is None:
            return ImportResult(kind, False, problems)
        parsed = module.parse(table, ctx, problems)
        for _rest in table.rows:
            pass  # a kind that stopped early: still read the file to report its every problem
        if problems:
            # Row problems come from two passes (cells, then meaning): put them in file order.
            problems.sort(key=lambda p: p.line)
            return ImportResult(kind, False, problems)
        if dry_run:
            return ImportResult(kind, True, problems, {"rows": table.count, "written": 0})
        with transaction.atomic():
            counts = module.apply(ctx, parsed)
            counts = {"rows": table.count, **counts}
            audit.record(
                actor, f"import.{kind}", object_type="file", object_id=ctx.sha256[:64],
                detail={"sha256": ctx.sha256, **counts},
            )
    return ImportResult(kind, True, problems, counts)


def progress_bar(iterable, ctx: ImportContext, total: int, desc: str):
    """``iterable`` wrapped in a tqdm bar on standard error when ``ctx.progress`` is set."""
    if not ctx.progress or total < 5000:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="row", file=sys.stderr, mininterval=0.5)
