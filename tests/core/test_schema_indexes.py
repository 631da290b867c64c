"""No table keeps an index that another index of the same table already covers.

An index whose columns begin another index's columns (same order) answers no query the longer
one cannot, and every index costs each insert: the contacts table takes millions of rows.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection


def _indexes(table: str) -> dict[str, tuple[list[str], bool]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {name: (info["columns"], bool(info["unique"] or info["primary_key"]))
            for name, info in constraints.items() if info["index"] or info["unique"] or info["primary_key"]}


def _salus_tables() -> list[str]:
    return sorted({m._meta.db_table for m in apps.get_models()
                   if m.__module__.startswith("salus.") and m._meta.managed and not m._meta.proxy})


@pytest.mark.django_db
def test_no_index_repeats_the_start_of_another():
    redundant = []
    for table in _salus_tables():
        indexes = _indexes(table)
        for name, (columns, unique) in indexes.items():
            if unique:
                continue  # a unique index is a rule, not only a way to look rows up
            if connection.vendor == "postgresql" and name.endswith("_like"):
                continue  # Django's pattern-matching twin of a text key's index: another operator class
            for other, (other_columns, _) in indexes.items():
                if other != name and other_columns[: len(columns)] == columns and (
                    len(other_columns) > len(columns) or name > other
                ):
                    redundant.append(f"{table}.{name} {columns} (covered by {other} {other_columns})")
                    break
    assert not redundant, "\n".join(redundant)
