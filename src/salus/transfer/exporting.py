"""Running an export of individual records: who may, where it goes, and the audit row."""

from __future__ import annotations

import datetime as dt
import os

from django.core.exceptions import PermissionDenied
from django.db import transaction

from salus.core import access, audit
from salus.transfer.csvfile import write_csv


def run_export(kind: str, user, path: str, *, since: dt.date | None = None, until: dt.date | None = None) -> int:
    """Write ``kind`` to the file ``path`` (owner-only permissions); return the row count.

    Raises PermissionDenied unless ``user`` is an active holder of ``export.individual``.
    Cells are neutralised against spreadsheet formulas (salus.transfer.csvfile.neutralise).
    """
    from salus.transfer.registry import exporter

    if not access.can(user, "export.individual"):
        raise PermissionDenied("export.individual")
    module = exporter(kind)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
        # One read transaction: the file is a consistent snapshot.
        with transaction.atomic():
            n = write_csv(out, module.COLUMNS, module.rows(user, since=since, until=until))
    audit.record(
        user, f"export.{kind}", object_type="file", object_id=os.path.basename(path)[:64],
        detail={"rows": n, "since": since, "until": until},
    )
    return n
