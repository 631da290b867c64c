"""Where the engine's SQL runs: DuckDB over the database file, or the database itself.

The engine writes its queries once, against a few dialect helpers, and hands them to a
:class:`Runner`:

- :class:`DuckDBRunner` attaches the program's SQLite file read-only (the ``sqlite`` extension
  loaded by path from the ``duckdb-extension-sqlite`` wheel: nothing is downloaded) or its
  PostgreSQL database (the ``postgres`` extension, same way), copies the period's rows into
  DuckDB once and aggregates them there. Fast; sees committed data only.
- :class:`NativeRunner` runs the same queries on Django's own connection (SQLite or PostgreSQL),
  with temporary tables for the intermediate results. It sees the current transaction's writes,
  so it is used inside a transaction and for in-memory test databases.

``choose_runner`` picks one; ``SALUS_INDICATOR_ENGINE`` (``duckdb`` or ``native``) overrides.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

_counter = itertools.count()


@dataclass(frozen=True)
class Dialect:
    """The few SQL expressions that differ between DuckDB, PostgreSQL and SQLite."""

    name: str  # "duckdb", "postgresql" or "sqlite"

    def date(self, day) -> str:
        """A date literal (``day`` is a datetime.date, never user text)."""
        if self.name == "sqlite":
            return f"'{day.isoformat()}'"
        return f"DATE '{day.isoformat()}'"

    def year_month(self, col: str) -> str:
        """The calendar month of a date column as an integer yyyymm."""
        if self.name == "sqlite":
            return f"CAST(strftime('%Y%m', {col}) AS INTEGER)"
        return f"CAST(EXTRACT(YEAR FROM {col}) * 100 + EXTRACT(MONTH FROM {col}) AS INTEGER)"

    def add_days(self, col: str, days: int) -> str:
        if self.name == "sqlite":
            return f"date({col}, '{days:+d} days')"
        return f"({col} + {int(days)})"

    def days_between(self, first: str, last: str) -> str:
        """Whole days from ``first`` to ``last`` (positive when ``last`` is later)."""
        if self.name == "sqlite":
            return f"CAST(julianday({last}) - julianday({first}) AS INTEGER)"
        return f"CAST({last} - {first} AS INTEGER)"

    def flag(self, col: str) -> str:
        """A boolean column as 0/1 (SQLite and DuckDB's SQLite reader see integers)."""
        return f"CAST({col} AS INTEGER)"


def quote(text: str) -> str:
    """A SQL string literal. Only for names read from the database (area paths, site codes)."""
    return "'" + str(text).replace("'", "''") + "'"


class Runner:
    dialect: Dialect
    kind: str

    def table(self, model) -> str:
        """How the SQL names the table of a Django model."""
        raise NotImplementedError

    def materialise(self, name: str, sql: str) -> str:
        """Store the result of ``sql`` as a temporary table; returns the name to use."""
        raise NotImplementedError

    def contact_rows(self, columns: tuple[str, ...], start, end, scope_sql: str) -> str:
        """Contacts dated ``start`` to ``end`` at the sites in scope: ``columns`` of
        services.Contact plus ``code`` (the site code).

        ``scope_sql`` is a condition on ``s`` (the site) and ``a`` (its area).
        """
        from salus.core.models import Area, Site
        from salus.services.models import Contact

        d = self.dialect
        cols = ", ".join(f"c.{col} AS {col}" for col in columns)
        return (
            f"(SELECT {cols}, s.code AS code FROM {self.table(Contact)} c "
            f"JOIN {self.table(Site)} s ON s.id = c.site_id JOIN {self.table(Area)} a ON a.id = s.area_id "
            f"WHERE c.date >= {d.date(start)} AND c.date <= {d.date(end)} AND {scope_sql})"
        )

    def scans_whole_table(self, start, end) -> bool:
        """Whether reading the contacts of ``start``-``end`` reads the whole table anyway."""
        return False

    def history_rows(self, census) -> str:
        """Contacts up to ``census`` with an HIV result given or an ART status, any site:
        client_id, occurred_at, hiv_result_given, hiv_result, art_status."""
        from salus.services.models import Contact

        d = self.dialect
        return (
            f"(SELECT client_id, occurred_at, hiv_result_given, hiv_result, art_status "
            f"FROM {self.table(Contact)} WHERE date <= {d.date(census)} "
            f"AND ({d.flag('hiv_result_given')} = 1 OR art_status <> ''))"
        )

    def rows(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class NativeRunner(Runner):
    """The database's own SQL through Django's connection (sees uncommitted writes)."""

    kind = "native"

    def __init__(self):
        vendor = connection.vendor
        if vendor not in ("sqlite", "postgresql"):
            raise RuntimeError(f"the indicator engine does not support {vendor}")
        self.dialect = Dialect(vendor)
        self._temps: list[str] = []

    def table(self, model) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    def materialise(self, name: str, sql: str) -> str:
        temp = f"salus_ind_{name}_{os.getpid()}_{next(_counter)}"
        with connection.cursor() as cur:
            cur.execute(f"CREATE TEMPORARY TABLE {temp} AS {sql}")
            if self.dialect.name == "postgresql":
                cur.execute(f"ANALYZE {temp}")
        self._temps.append(temp)
        return temp

    def rows(self, sql: str) -> list[tuple]:
        with connection.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    def close(self) -> None:
        with connection.cursor() as cur:
            for temp in reversed(self._temps):
                cur.execute(f"DROP TABLE IF EXISTS {temp}")
        self._temps.clear()


def _extension_path(name: str) -> Path:
    """The DuckDB extension ``name`` ("sqlite" or "postgres") from its PyPI wheel, by path.

    ``LOAD <name>`` would try to download it; loading by path works when the file is named
    after the extension's entry point (``sqlite_scanner`` / ``postgres_scanner``), so a copy
    with that name is kept in the temporary directory.
    """
    import duckdb

    module = __import__(f"duckdb_extension_{name}")
    src = Path(module.__file__).parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not src.exists():
        raise RuntimeError(f"DuckDB extension {name} for DuckDB {duckdb.__version__} is not installed ({src})")
    folder = Path(tempfile.gettempdir()) / f"salus-duckdb-{duckdb.__version__}-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    dst = folder / f"{name}_scanner.duckdb_extension"
    if not dst.exists() or dst.stat().st_size != src.stat().st_size:
        partial = folder / f".{dst.name}.{os.getpid()}"
        shutil.copyfile(src, partial)
        os.replace(partial, dst)
    return dst


class DuckDBRunner(Runner):
    """DuckDB attached read-only to the program's database; temporary tables live in DuckDB."""

    kind = "duckdb"

    def __init__(self, settings_dict: dict | None = None, memory_limit: str = "1GB"):
        import duckdb

        db = settings_dict or connection.settings_dict
        self.dialect = Dialect("duckdb")
        self.con = duckdb.connect(":memory:", config={"memory_limit": memory_limit})

        engine = db["ENGINE"]
        self.source = "sqlite" if engine.endswith("sqlite3") else "postgres"
        if engine.endswith("sqlite3"):
            self.con.execute(f"LOAD '{_extension_path('sqlite')}'")
            self.con.execute(f"ATTACH {quote(str(db['NAME']))} AS src (TYPE sqlite, READ_ONLY)")
            self._prefix = "src."
        elif "postgresql" in engine:
            self.con.execute(f"LOAD '{_extension_path('postgres')}'")
            parts = {
                "dbname": db.get("NAME"), "user": db.get("USER"), "password": db.get("PASSWORD"),
                "host": db.get("HOST"), "port": db.get("PORT"),
            }
            dsn = " ".join(f"{k}={v}" for k, v in parts.items() if v not in (None, ""))
            self.con.execute(f"ATTACH {quote(dsn)} AS src (TYPE postgres, READ_ONLY)")
            self._prefix = "src.public."
        else:
            raise RuntimeError(f"the indicator engine does not support {engine}")

    def table(self, model) -> str:
        return self._prefix + model._meta.db_table

    def materialise(self, name: str, sql: str) -> str:
        # A runner may serve several computations (monthly_trend): a name is reused.
        self.con.execute(f"CREATE OR REPLACE TEMPORARY TABLE {name} AS {sql}")
        return name

    def rows(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def close(self) -> None:
        self.con.close()

    # SQLite: DuckDB's table scan reads every row of the table (no filter reaches SQLite), so
    # a short period's contacts are asked of SQLite itself, which uses its date index.

    def _sqlite_rows(self, name: str, query: str, types: dict[str, str]) -> str:
        """Run ``query`` in SQLite into a DuckDB table (values cross as text, cast once here).

        One query: DuckDB shares one SQLite connection per attached file, so splitting the
        read across threads was measured to be slower, not faster.
        """
        typed = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in types.items())
        table = f"{name}_{next(_counter)}"
        self.con.execute(f"CREATE TEMPORARY TABLE {table} AS SELECT {typed} FROM sqlite_query('src', {quote(query)})")
        return table

    def scans_whole_table(self, start, end) -> bool:
        return self.source == "sqlite" and (end - start).days >= 180

    def contact_rows(self, columns: tuple[str, ...], start, end, scope_sql: str) -> str:
        # Half a year or more: DuckDB's parallel scan of the whole table is quicker than
        # SQLite's index (measured at 5 M contacts: 2.1 s against 2.9 s for a year); shorter
        # periods read far fewer rows through the index.
        if self.source != "sqlite" or (end - start).days >= 180:
            return super().contact_rows(columns, start, end, scope_sql)
        from salus.core.models import Area, Site
        from salus.services.models import Contact

        # The 0/1 flags travel packed in one number (a bit each) and are unpacked in DuckDB.
        flags = [c for c in columns if c in _FLAGS]
        plain = [c for c in columns if c not in _FLAGS]
        select = [
            f"CASE WHEN c.{col}_given = 1 THEN c.{col} END AS {col}" if col in ("hiv_result", "hcv_result")
            else f"c.{col} AS {col}"
            for col in plain
        ]
        select.append("(" + " + ".join(f"{1 << i} * c.{f}" for i, f in enumerate(flags)) + ") AS packed")
        # SQLite joins the site itself: short codes cross over, not 32-character ids.
        query = (
            f"SELECT {', '.join(select)}, s.code AS code FROM {Contact._meta.db_table} c "
            f"JOIN {Site._meta.db_table} s ON s.id = c.site_id JOIN {Area._meta.db_table} a ON a.id = s.area_id "
            f"WHERE c.date >= '{start.isoformat()}' AND c.date <= '{end.isoformat()}' AND {scope_sql}"
        )
        types = {c: _COLUMN_TYPES.get(c, "BIGINT") for c in plain}
        types.update(packed="BIGINT", code="VARCHAR")
        union = self._sqlite_rows("ind_contacts", query, types)
        unpack = ", ".join(f"(packed >> {i}) & 1 AS {f}" for i, f in enumerate(flags))
        return f"(SELECT *, {unpack} FROM {union} packed_rows)" if flags else union

    # The ART history reads the whole table whatever the period: DuckDB's own parallel scan
    # (the inherited history_rows) does that faster than one SQLite query (1.9 s against 6.5 s).


_FLAGS = ("education", "hiv_tested", "hiv_result_given", "hcv_tested", "hcv_result_given")
# DuckDB types of the contact columns read through sqlite_query (which may give text).
_COLUMN_TYPES = {
    "client_id": "VARCHAR", "site_id": "VARCHAR", "date": "DATE", "occurred_at": "TIMESTAMP",
    "hiv_result": "VARCHAR", "hcv_result": "VARCHAR", "art_status": "VARCHAR",
}


def _sqlite_in_memory(db: dict) -> bool:
    name = str(db.get("NAME") or "")
    return name in ("", ":memory:") or "mode=memory" in name or name.startswith("file:memorydb")


def choose_runner(prefer: str | None = None) -> Runner:
    """The fastest runner that sees the data the caller sees.

    DuckDB reads committed data through its own connection, so inside a transaction (where the
    caller may have uncommitted writes) and for in-memory SQLite the native runner is used.
    """
    prefer = prefer or os.environ.get("SALUS_INDICATOR_ENGINE", "auto")
    if prefer == "native":
        return NativeRunner()
    db = connection.settings_dict
    attachable = not connection.in_atomic_block and not (
        db["ENGINE"].endswith("sqlite3") and _sqlite_in_memory(db)
    )
    if prefer == "duckdb" or (prefer == "auto" and attachable):
        return DuckDBRunner()
    return NativeRunner()
