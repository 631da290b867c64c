"""Fast inserts for imports: one ``executemany`` per batch instead of Django's bulk_create.

Django's ``bulk_create`` on SQLite splits a batch into statements of at most 999 parameters
(28 contacts at a time) and builds model instances first; an import of 200,000 contacts spends
most of its time there. :func:`insert_rows` writes plain tuples through the database cursor,
converting only the columns whose Python value is not already what the driver takes (UUIDs,
dates, JSON, encrypted text). Callers run it inside their own transaction.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from contextlib import contextmanager

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


def insert_rows(model: type[models.Model], attnames: list[str], rows: Iterable[tuple],
                raw: frozenset[str] = frozenset()) -> int:
    """Insert ``rows`` (tuples of Python values in ``attnames`` order) into ``model``'s table.

    Columns named in ``raw`` already hold what the driver takes (see :func:`db_uuid`) and are
    not converted: the hot loop of a large import prepares them itself.

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
    # Defaults are converted once here, not once per row.
    default_convs = [_converter(f) for f in fields[len(attnames):]]
    defaults_t = tuple(d if c is None or d is None else c(d) for d, c in zip(defaults, default_convs, strict=True))
    columns = [f.column for f in fields]
    convs = [(i, c) for i, c in enumerate(_converter(f) for f in fields[: len(attnames)])
             if c is not None and attnames[i] not in raw]
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


def db_uuid(value: uuid.UUID) -> object:
    """A UUID as the database driver takes it: 32 hex digits on SQLite, itself elsewhere."""
    return value if connection.features.has_native_uuid_field else value.hex


def uuid5_hex(namespace_bytes: bytes, name: str) -> str:
    """``uuid.uuid5(namespace, name).hex`` without building UUID objects (3x faster)."""
    b = bytearray(hashlib.sha1(namespace_bytes + name.encode()).digest()[:16])
    b[6] = (b[6] & 0x0F) | 0x50
    b[8] = (b[8] & 0x3F) | 0x80
    return b.hex()


@contextmanager
def big_write():
    """Give SQLite a page cache large enough for one import's random-key index inserts.

    The default (2 MB) makes a 200,000-row transaction spill pages to the WAL again and again;
    256 MB keeps the indexes of a large import in memory. Restored afterwards.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cur:
        cur.execute("PRAGMA cache_size")
        old = cur.fetchone()[0]
        cur.execute("PRAGMA cache_size = -262144")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA cache_size = {int(old)}")
