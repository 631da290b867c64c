"""Fast inserts for imports: one ``executemany`` per batch instead of Django's bulk_create.

Django's ``bulk_create`` on SQLite splits a batch into statements of at most 999 parameters
(28 contacts at a time) and builds model instances first; an import of 200,000 contacts spends
most of its time there. :func:`insert_rows` writes plain tuples through the database cursor,
converting only the columns whose Python value is not already what the driver takes (UUIDs,
dates, JSON, encrypted text). Callers run it inside their own transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from django.db import connection, models

from salus.core.crypto import EncryptedTextField

BATCH = 5000

_PASS_THROUGH = (
    models.IntegerField, models.BooleanField, models.CharField, models.TextField,
)


def _converter(field: models.Field) -> Callable | None:
    """How to turn a Python value of ``field`` into what the cursor takes; None = as it is."""
    if isinstance(field, models.ForeignKey):
        return _converter(field.target_field)
    if isinstance(field, models.UUIDField):
        if connection.features.has_native_uuid_field:
            return None
        return lambda v: v.hex if isinstance(v, uuid.UUID) else v
    if isinstance(field, EncryptedTextField):
        return field.get_prep_value
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return connection.ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return lambda v: connection.ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
    if isinstance(field, _PASS_THROUGH) and not isinstance(field, models.JSONField):
        return None
    return lambda v: field.get_db_prep_save(v, connection)


def insert_rows(model: type[models.Model], attnames: list[str], rows: Iterable[tuple]) -> int:
    """Insert ``rows`` (tuples of Python values in ``attnames`` order) into ``model``'s table.

    Columns not named get their field's default (a column with no default must be named).
    Returns the number of rows inserted.
    """
    # get_field finds a foreign key by its attname ("client_id") too.
    fields = [model._meta.get_field(a) for a in attnames]
    named = {f.column for f in fields}
    defaults = []
    for f in model._meta.concrete_fields:
        if f.column in named or isinstance(f, models.AutoField):
            continue  # named, or an integer key the database numbers itself
        if not (f.has_default() or f.null):
            raise ValueError(f"insert_rows({model.__name__}): column {f.column} has no default")
        fields.append(f)
        defaults.append(f.get_default())
    defaults_t = tuple(defaults)
    columns = [f.column for f in fields]
    convs = [(i, c) for i, c in enumerate(_converter(f) for f in fields) if c is not None]
    qn = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        qn(model._meta.db_table), ", ".join(qn(c) for c in columns), ", ".join(["%s"] * len(columns))
    )
    batch: list = []
    n = 0
    with connection.cursor() as cursor:
        for row in rows:
            if defaults_t:
                row = (*row, *defaults_t)
            if convs:
                row = list(row)
                for i, c in convs:
                    v = row[i]
                    if v is not None:
                        row[i] = c(v)
            batch.append(row)
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                n += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            n += len(batch)
    return n
