"""Fast inserts for imports: one ``executemany`` per batch instead of Django's bulk_create.

Django's ``bulk_create`` on SQLite splits a batch into statements of at most 999 parameters
(28 contacts at a time) and builds model instances first; an import of 200,000 contacts spends
most of its time there. :func:`insert_rows` writes plain tuples through the database cursor,
converting only the columns whose Python value is not already what the driver takes (UUIDs,
dates, JSON, encrypted text). Callers run it inside their own transaction.

Values that are the same on every row (the columns' defaults, and ``constants`` a caller names)
are written into the statement once rather than bound on every row: binding costs time per row,
above all for ``None`` and booleans, which Python's sqlite3 module passes through its adaptation
protocol. For the same reason booleans go to SQLite as the integers it stores anyway.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import uuid
from collections.abc import Callable, Iterable
from contextlib import contextmanager

from django.db import connection, models

from salus.core.crypto import EncryptedTextField

BATCH = 5000

_PASS_THROUGH = (
    models.IntegerField, models.BooleanField, models.CharField, models.TextField,
)

# Text that may be written into SQL as a quoted literal as it is: no quote, backslash or percent
# sign can occur in it. Anything else is bound as a parameter.
_PLAIN_TEXT = re.compile(r"[A-Za-z0-9 _.:+-]*")


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
    if isinstance(field, models.BooleanField):
        return db_bool()
    if isinstance(field, _PASS_THROUGH) and not isinstance(field, models.JSONField):
        return None
    return lambda v: field.get_db_prep_save(v, connection)


def db_bool() -> Callable | None:
    """How booleans go to the driver: ``int`` on SQLite (see the module docstring), else as they are."""
    return int if connection.vendor == "sqlite" else None


def _column_field(model: type[models.Model], attname: str) -> models.Field:
    """The field of ``model`` whose column is ``attname`` (get_field finds a foreign key by its
    attname, "client_id", too)."""
    f = model._meta.get_field(attname)
    # A reverse relation, a generic foreign key or a many-to-many field has no column to write.
    if not isinstance(f, models.Field) or not f.concrete:
        raise ValueError(f"insert_rows({model.__name__}): {attname} is not a column")
    return f


def sql_literal(value) -> str | None:
    """``value`` (already as the driver takes it) written as an SQL literal, or None if it is not
    a plain None, boolean, integer or short plain text and must be bound instead."""
    if value is None:
        return "NULL"
    if value is True or value is False:
        return "TRUE" if value else "FALSE"
    if type(value) is int:
        return str(value)
    if type(value) is str and len(value) <= 100 and _PLAIN_TEXT.fullmatch(value):
        return f"'{value}'"
    return None


def insert_rows(model: type[models.Model], attnames: list[str], rows: Iterable[tuple],
                raw: frozenset[str] = frozenset(), constants: dict | None = None) -> int:
    """Insert ``rows`` (tuples of Python values in ``attnames`` order) into ``model``'s table.

    Columns named in ``raw`` already hold what the driver takes (see :func:`db_uuid`) and are
    not converted: the hot loop of a large import prepares them itself. ``constants`` maps
    further attnames to a Python value that every row has; the rows do not carry them.

    Columns named nowhere get their field's default, taken once for all rows (the primary key
    and a column with no default must be named). Returns the number of rows inserted.
    """
    constants = dict(constants or {})
    fields = [_column_field(model, a) for a in attnames]
    fixed = [(_column_field(model, a), v) for a, v in constants.items()]
    named = {f.column for f in fields} | {f.column for f, _v in fixed}
    for f in model._meta.concrete_fields:
        if f.column in named or isinstance(f, models.AutoField):
            continue  # named, or an integer key the database numbers itself
        if f.primary_key or not (f.has_default() or f.null):
            # A default is taken once for all rows: a key must be given row by row.
            raise ValueError(f"insert_rows({model.__name__}): column {f.column} must be named")
        fixed.append((f, f.get_default()))
    # Values every row shares are converted once here, and written into the statement as
    # literals when that is safe; the others are bound after each row's own values.
    literals: dict[str, str] = {}
    bound: list[tuple[models.Field, object]] = []
    for f, v in fixed:
        c = _converter(f)
        if c is not None and v is not None:
            v = c(v)
        text = sql_literal(v)
        if text is None:
            bound.append((f, v))
        else:
            literals[f.column] = text
    fields += [f for f, _v in bound]
    tail = tuple(v for _f, v in bound)
    convs = [(i, c) for i, c in enumerate(_converter(f) for f in fields[: len(attnames)])
             if c is not None and attnames[i] not in raw]
    qn = connection.ops.quote_name
    columns = [f.column for f in fields] + list(literals)
    values = ["%s"] * len(fields) + list(literals.values())
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        qn(model._meta.db_table), ", ".join(qn(c) for c in columns), ", ".join(values)
    )
    batch: list = []
    n = 0
    row: tuple | list  # a list once its values are converted in place
    with connection.cursor() as cursor:
        for row in rows:
            if tail:
                row = (*row, *tail)
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


def db_uuid(value: uuid.UUID) -> uuid.UUID | str:
    """A UUID as the database driver takes it: 32 hex digits on SQLite, itself elsewhere."""
    return value if connection.features.has_native_uuid_field else value.hex


# The first hex digit of a UUID's variant byte, given the digit there before the variant bits
# (binary 10xx) are set.
_VARIANT_DIGIT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}


def uuid5_hex(namespace_bytes: bytes, name: str) -> str:
    """``uuid.uuid5(namespace, name).hex`` without building UUID objects (3x faster).

    The version (5) and variant bits are set on the hex digits of the SHA-1 digest.
    """
    h = hashlib.sha1(namespace_bytes + name.encode()).hexdigest()
    return f"{h[:12]}5{h[13:16]}{_VARIANT_DIGIT[h[16]]}{h[17:32]}"


def new_uuids(n: int) -> list:
    """``n`` new random (version 4) UUIDs as the driver takes them, from one read of the OS's
    random source (``uuid.uuid4()`` reads it and builds an object per id)."""
    raw = os.urandom(16 * n).hex()
    ids = [f"{raw[i:i + 12]}4{raw[i + 13:i + 16]}{_VARIANT_DIGIT[raw[i + 16]]}{raw[i + 17:i + 32]}"
           for i in range(0, 32 * n, 32)]
    return [uuid.UUID(h) for h in ids] if connection.features.has_native_uuid_field else ids


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


@contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector for one import; restored afterwards.

    An import of 200,000 rows makes millions of small objects (cells, tuples, ids) that form no
    reference cycles; the collector would still walk the growing heap over a thousand times
    (about 6 % of the import's CPU time). Anything cyclic left behind is collected once it runs
    again. Reference counting frees everything else as usual meanwhile.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
