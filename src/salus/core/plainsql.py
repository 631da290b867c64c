"""Plain-SQL look-ups for the statements every API write runs (docs/decisions/0006).

Compiling an ORM query costs some 0.3 to 0.6 ms of CPU, and ``Model.objects.raw`` still some
0.25 ms; running a one-row look-up costs about 0.1 ms. The statements here have a fixed shape
and run on every contact posted, so their SQL is written once per model and only the
parameters change. Rows become model instances the way the ORM makes them: each field's
database converters, then ``Model.from_db``, so encrypted fields decrypt and ids become UUIDs
exactly as a queryset would give them.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, cast

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


def table(model: type[Model]) -> str:
    """The model's table, quoted for the current database."""
    return connection.ops.quote_name(model._meta.db_table)


def column(model: type[Model], field_name: str) -> str:
    """A field's column, quoted for the current database."""
    # A concrete field (``get_field`` also knows reverse relations, which have no column).
    return connection.ops.quote_name(cast("Field[Any, Any]", model._meta.get_field(field_name)).column)


def db_value(model: type[Model], field_name: str, value):
    """``value`` as the database stores the field (a UUID as 32 hex characters on SQLite...)."""
    # A concrete field, as in column().
    return cast("Field[Any, Any]", model._meta.get_field(field_name)).get_db_prep_value(value, connection)


class RowReader(Generic[M]):
    """Turns rows of a model's columns (``columns``, in that order) into instances.

    Made once per model and database connection (:func:`reader`): the converters are the
    connection's own, as a queryset's compiler would pick them.
    """

    def __init__(self, model: type[M], alias: str = "t"):
        self.model = model
        fields = model._meta.concrete_fields
        qn = connection.ops.quote_name
        self.columns = ", ".join(f"{alias}.{qn(f.column)}" for f in fields)
        self.attnames = [f.attname for f in fields]
        self.converters: list[tuple[int, list[Any], Any]] = []
        for pos, f in enumerate(fields):
            expression = f.get_col(model._meta.db_table)
            convs = connection.ops.get_db_converters(expression) + expression.get_db_converters(
                connection
            )
            if convs:
                self.converters.append((pos, convs, expression))
        self.width = len(fields)

    def instance(self, row) -> M:
        """An instance from the first ``len(columns)`` values of ``row``."""
        values = list(row[: self.width])
        for pos, convs, expression in self.converters:
            value = values[pos]
            for converter in convs:
                value = converter(value, expression, connection)
            values[pos] = value
        return self.model.from_db(connection.alias, self.attnames, values)


def reader(model: type[M], alias: str = "t") -> RowReader[M]:
    """The :class:`RowReader` of ``model`` for the current connection (made on first use)."""
    # On the connection object itself (each thread has its own), not on the module's proxy.
    readers = connections[DEFAULT_DB_ALIAS].__dict__.setdefault("_salus_row_readers", {})
    key = (model, alias)
    found = readers.get(key)
    if found is None:
        found = readers[key] = RowReader(model, alias)
    return found


def one_by(model: type[M], field_name: str, value) -> M | None:
    """The row whose unique field ``field_name`` equals ``value``, as an instance, or None."""
    read = reader(model)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {read.columns} FROM {table(model)} t WHERE t.{column(model, field_name)} = %s",
            [db_value(model, field_name, value)],
        )
        row = cursor.fetchone()
    return None if row is None else read.instance(row)


def _insert_fields(model: type[Model]) -> list[Field[Any, Any]]:
    # Columns the database fills (an auto-increment key, a generated column) are left out.
    return [f for f in model._meta.concrete_fields if not f.db_returning and not f.generated]  # type: ignore[attr-defined]  # every Field has db_returning; the stubs declare it on auto fields only


def insert_batches(objs: list[M]) -> list[list[M]]:
    """``objs`` cut into runs that each fit one INSERT (SQLite and PostgreSQL limit the
    parameters of a statement)."""
    if not objs:
        return []
    fields = _insert_fields(type(objs[0]))
    size = max(1, min(connection.ops.bulk_batch_size(fields, objs), 65535 // len(fields)))
    return [objs[i : i + size] for i in range(0, len(objs), size)]


def insert_sql(objs: list[M]) -> tuple[str, list[Any]]:
    """One INSERT of unsaved instances of one model (a run of :func:`insert_batches`), with
    their values prepared as ``save()`` prepares them: ``pre_save`` (``auto_now_add``...),
    then ``get_db_prep_save`` (encrypted fields encrypt, JSON is dumped). Nothing is read
    back, so an auto-increment key stays unset on the instances."""
    model = type(objs[0])
    fields = _insert_fields(model)
    marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in objs for f in fields]
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {table(model)} ({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES {', '.join([marks] * len(objs))}"
    )
    return sql, params


def saved(objs: list[M]) -> None:
    """Mark instances inserted by :func:`insert_sql` as saved, as ``save()`` would."""
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def insert(objs: list[M]) -> None:
    """Insert unsaved instances of one model (:func:`insert_sql`) and mark them saved."""
    with connection.cursor() as cursor:
        for batch in insert_batches(objs):
            cursor.execute(*insert_sql(batch))
    saved(objs)
