"""The database refuses to change or delete audit rows (append-only at the SQL level).

The hash chain (salus.core.audit) detects a changed row; these triggers stop the change from
happening through the application or a casual SQL session in the first place. Someone who owns
the database can drop a trigger, so the chain stays the real proof (``salus audit verify``).

- SQLite: ``BEFORE UPDATE`` and ``BEFORE DELETE`` triggers that abort the statement.
- PostgreSQL: one trigger function raising an exception, on ``UPDATE OR DELETE``.

The triggers are installed by migration ``core.0003`` and again after every ``migrate``
(SQLite drops a table's triggers when Django rebuilds the table for a schema change).
Deleting a staff member would null ``actor`` on their audit rows, so the database refuses that
too: deactivate accounts instead.

Django's ``flush`` (the test runner, ``salus flush``) empties every table; on SQLite it runs
with the triggers lifted inside its own transaction and puts them back before committing.
On PostgreSQL flush uses TRUNCATE, which row triggers do not see.
"""

from __future__ import annotations

TABLE = "core_auditevent"
MESSAGE = "the audit log is append-only"

SQLITE_TRIGGERS = {
    "audit_no_update": f"CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    "audit_no_delete": f"CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
}

POSTGRES_INSTALL = [
    "CREATE OR REPLACE FUNCTION salus_audit_append_only() RETURNS trigger AS $$ "
    f"BEGIN RAISE EXCEPTION '{MESSAGE}'; END; $$ LANGUAGE plpgsql",
    f"DROP TRIGGER IF EXISTS salus_audit_append_only ON {TABLE}",
    f"CREATE TRIGGER salus_audit_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION salus_audit_append_only()",
]
POSTGRES_REMOVE = [
    f"DROP TRIGGER IF EXISTS salus_audit_append_only ON {TABLE}",
    "DROP FUNCTION IF EXISTS salus_audit_append_only()",
]


def _table_exists(connection) -> bool:
    with connection.cursor() as cur:
        return TABLE in connection.introspection.table_names(cur)


def install(connection) -> None:
    """Create the append-only triggers on ``connection`` (idempotent)."""
    if not _table_exists(connection):
        return
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            for sql in SQLITE_TRIGGERS.values():
                cur.execute(sql)
        elif connection.vendor == "postgresql":
            for sql in POSTGRES_INSTALL:
                cur.execute(sql)


def remove(connection) -> None:
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            for name in SQLITE_TRIGGERS:
                cur.execute(f"DROP TRIGGER IF EXISTS {name}")
        elif connection.vendor == "postgresql":
            for sql in POSTGRES_REMOVE:
                cur.execute(sql)


def installed(connection) -> bool:
    """Whether the triggers are in place (``salus audit verify`` reports it)."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute(
                "SELECT count(*) FROM sqlite_master WHERE type='trigger' AND tbl_name=%s", [TABLE]
            )
            return cur.fetchone()[0] >= len(SQLITE_TRIGGERS)
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname='salus_audit_append_only' AND NOT tgisinternal"
            )
            return cur.fetchone()[0] == 1
    return False


def _after_migrate(sender, using="default", **kwargs) -> None:
    from django.db import connections

    install(connections[using])


def _wrap_sqlite_flush(sender, connection, **kwargs) -> None:
    """Let Django's flush (a full wipe of every table) through the triggers on SQLite."""
    if connection.vendor != "sqlite" or getattr(connection.ops, "_salus_flush_wrapped", False):
        return
    original = connection.ops.execute_sql_flush

    def execute_sql_flush(sql_list):
        from django.db import transaction

        with transaction.atomic(using=connection.alias):
            had = installed(connection)
            remove(connection)
            original(sql_list)
            if had:
                install(connection)

    connection.ops.execute_sql_flush = execute_sql_flush
    connection.ops._salus_flush_wrapped = True


def connect_signals() -> None:
    from django.db.backends.signals import connection_created
    from django.db.models.signals import post_migrate

    post_migrate.connect(_after_migrate, dispatch_uid="salus_audit_seal")
    connection_created.connect(_wrap_sqlite_flush, dispatch_uid="salus_audit_flush")
