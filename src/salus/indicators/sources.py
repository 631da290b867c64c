"""Where the engine's SQL runs: DuckDB over the database file, or the database itself.

The engine writes its queries once, against a few dialect helpers, and hands them to a
:class:`Runner`:

- :class:`DuckDBRunner` attaches the program's SQLite file read-only (the ``sqlite`` extension
  loaded by path from the ``duckdb-extension-sqlite`` wheel: nothing is downloaded) or its
  PostgreSQL database (the ``postgres`` extension, same way), copies the contacts it needs into
  DuckDB once (:meth:`Runner.read_contacts`) and aggregates them there. Fast; sees committed
  data only.
- :class:`NativeRunner` runs the same queries on Django's own connection (SQLite or PostgreSQL),
  with temporary tables for the intermediate results. It sees the current transaction's writes,
  so it is used inside a transaction and for in-memory test databases.

``choose_runner`` picks one; ``SALUS_INDICATOR_ENGINE`` (``duckdb`` or ``native``) overrides.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import shutil
import tempfile
import uuid
import weakref
from concurrent.futures import ThreadPoolExecutor
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

    def month_number(self, col: str) -> str:
        """The calendar month of a date column as one integer: year * 12 + month."""
        if self.name == "sqlite":
            return f"(CAST(strftime('%Y', {col}) AS INTEGER) * 12 + CAST(strftime('%m', {col}) AS INTEGER))"
        return f"CAST(EXTRACT(YEAR FROM {col}) * 12 + EXTRACT(MONTH FROM {col}) AS INTEGER)"

    def bit_or(self, expr: str) -> str:
        """An aggregate: the bitwise OR of ``expr``, whose values are 0 or a single bit each.

        SQLite has no bitwise aggregate; for single-bit values the sum of the distinct values
        is the same number.
        """
        if self.name == "sqlite":
            return f"SUM(DISTINCT {expr})"
        return f"BIT_OR({expr})"

    def count_bits(self, col: str, bits: int) -> str:
        """An aggregate: how many of the low ``bits`` bits are set in the OR of ``col``."""
        if self.name == "duckdb":
            return f"BIT_COUNT(BIT_OR({col}))"
        return "(" + " + ".join(f"MAX(({col} >> {b}) & 1)" for b in range(bits)) + ")" if bits else "0"

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


# Ranges of the contacts table read per DuckDB thread. Parts differ in cost (the period's rows
# are dearer than the history's), so there are more parts than threads, handed out as threads
# come free, the last rows of the table first: contacts are mostly recorded in date order and
# the latest period is the one most asked for, so the dearest parts start first and the cheap
# ones fill in at the end.
PARTS_PER_THREAD = 8

# The contact columns the engine reads: counts, then 0/1 flags.
CONTACT_COUNTS = ("syringes_given", "syringes_returned", "condoms_given", "naloxone_kits_given")
CONTACT_FLAGS = ("education", "hiv_tested", "hiv_result_given", "hcv_tested", "hcv_result_given")
# Bits after the flags' when a DuckDB runner packs a contact's 0/1 values in one byte.
_IN_PERIOD = 1 << len(CONTACT_FLAGS)
_IN_HIST = 1 << (len(CONTACT_FLAGS) + 1)


@dataclass(frozen=True)
class ContactRead:
    """What the engine needs of services.Contact, read in one pass by :meth:`Runner.read_contacts`.

    The period's contacts at the sites in scope (``in_period`` = 1) and, when ``census`` is
    given, every contact up to the census date at any site with an HIV result given or an ART
    status recorded (``in_hist`` = 1; a contact can be both).
    """

    start: dt.date
    end: dt.date
    # Ids of the sites in scope; None for every site.
    site_ids: tuple[uuid.UUID, ...] | None = None
    census: dt.date | None = None
    # The HIV and HCV results (ciphertext) of the period's contacts with a result given.
    results: bool = False

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class Runner:
    dialect: Dialect
    kind: str

    def table(self, model) -> str:
        """How the SQL names the table of a Django model."""
        raise NotImplementedError

    def id_literal(self, value: uuid.UUID) -> str:
        """A UUID primary key as the source database stores it."""
        raise NotImplementedError

    def materialise(self, name: str, sql: str) -> str:
        """Store the result of ``sql`` as a table of this computation; returns the name to use."""
        raise NotImplementedError

    def read_contacts(self, read: ContactRead) -> str:
        """Materialise the contacts ``read`` asks for; returns the table name.

        Columns: client_id and site_id (as :meth:`uuid` gives them), occurred_at, date, the
        CONTACT_COUNTS, the CONTACT_FLAGS (0/1), hiv_ct and hcv_ct (the result's ciphertext when one was given, else NULL), art_ct
        (the ART status's ciphertext, or NULL), in_period and in_hist (0/1).
        """
        d = self.dialect
        period, hist = self._contact_conditions(read, d, "c")
        return self.materialise("ind_scan", f"""
            SELECT {self._contact_select(read, d, 'c')}, c.site_id AS site_id,
                   CASE WHEN {period} THEN 1 ELSE 0 END AS in_period,
                   {f'CASE WHEN {hist} THEN 1 ELSE 0 END' if hist else '0'} AS in_hist
            FROM {self.table(_contact_model())} c
            WHERE ({period}){f' OR ({hist})' if hist else ''}""")

    def _contact_conditions(self, read: ContactRead, d: Dialect, alias: str,
                            date_col: str | None = None) -> tuple[str, str | None]:
        """SQL conditions (period contact in scope, history contact) on contact ``alias``."""
        day = date_col or f"{alias}.date"
        period = f"{day} >= {d.date(read.start)} AND {day} <= {d.date(read.end)}"
        if read.site_ids is not None:
            ids = ", ".join(self.id_literal(s) for s in read.site_ids)
            period += f" AND {alias}.site_id IN ({ids})" if ids else " AND 1 = 0"
        hist = None
        if read.census is not None:
            hist = (
                f"{day} <= {d.date(read.census)} AND "
                f"({d.flag(f'{alias}.hiv_result_given')} = 1 OR {alias}.art_status <> '')"
            )
        return period, hist

    def _contact_select(self, read: ContactRead, d: Dialect, alias: str) -> str:
        cols = [f"{alias}.{c} AS {c}" for c in ("client_id", "occurred_at", "date", *CONTACT_COUNTS)]
        cols += [f"{d.flag(f'{alias}.{c}')} AS {c}" for c in CONTACT_FLAGS]
        for test, wanted in (("hiv", read.results or read.census is not None), ("hcv", read.results)):
            cols.append(
                f"CASE WHEN {d.flag(f'{alias}.{test}_result_given')} = 1 THEN {alias}.{test}_result END AS {test}_ct"
                if wanted else f"CAST(NULL AS TEXT) AS {test}_ct"
            )
        cols.append(
            f"CASE WHEN {alias}.art_status <> '' THEN {alias}.art_status END AS art_ct"
            if read.census is not None else "CAST(NULL AS TEXT) AS art_ct"
        )
        return ", ".join(cols)

    def first_day_contacts(self, clients: str) -> str:
        """Materialise the contacts, at every site, made on the first contact date
        (Client.first_contact_date) of each client of table ``clients`` (its column client_id,
        as :meth:`uuid` gives ids); returns the table name. Columns: client_id and site_id (as
        :meth:`uuid` gives them) and occurred_at.

        Where a client was first seen, which a page of an area or a site cannot tell from its
        own contacts. The clients are few (those a page may count as new), and the index on a
        contact's client and time finds their rows.
        """
        return self.materialise("ind_first_day", self._first_day_sql(
            f"IN (SELECT client_id FROM {clients})", self.table(_contact_model()), self.table(_client_model())))

    @staticmethod
    def _first_day_sql(clients_in: str, contact: str, client: str) -> str:
        # Contact.date and Client.first_contact_date are both dates in the program's time zone.
        return (f"SELECT c.client_id AS client_id, c.site_id AS site_id, c.occurred_at AS occurred_at "
                f"FROM {contact} c JOIN {client} cl ON cl.id = c.client_id "
                f"WHERE c.client_id {clients_in} AND c.date = cl.first_contact_date")

    def rows(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def uuid(self, expr: str) -> str:
        """A UUID column ``expr`` of the source (a client's or a site's id) as the runner keeps
        ids: contacts arrive with their ids in that form, so whatever joins them uses it too."""
        return expr

    def keys(self, name: str, values: list[str]) -> str:
        """A relation of one text column ``ct`` holding ``values``, for ``SELECT ct FROM <it>``.

        For what the engine learns from decrypted values (which ciphertexts are positive), so
        it never goes to disk: a DuckDB runner keeps a table in its in-memory database; the
        native runner writes the values into the statements themselves (a temporary table of
        SQLite or PostgreSQL may be written to a temporary file). :meth:`drop` it when done.
        """
        raise NotImplementedError

    def drop(self, relation: str) -> None:
        """Forget a relation made by :meth:`keys`."""

    def fork(self) -> Runner | None:
        """A runner over the same tables that another thread may use at the same time as this
        one, or None when there is no such thing (one database connection)."""
        return None

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _contact_model():
    from salus.services.models import Contact

    return Contact


def _client_model():
    from salus.clients.models import Client

    return Client


class NativeRunner(Runner):
    """The database's own SQL through Django's connection (sees uncommitted writes)."""

    kind = "native"

    def __init__(self) -> None:
        vendor = connection.vendor
        if vendor not in ("sqlite", "postgresql"):
            raise RuntimeError(f"the indicator engine does not support {vendor}")
        self.dialect = Dialect(vendor)
        self._temps: list[str] = []

    def table(self, model) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    def id_literal(self, value: uuid.UUID) -> str:
        return quote(value.hex if self.dialect.name == "sqlite" else str(value))

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

    def keys(self, name: str, values: list[str]) -> str:
        if self.dialect.name == "sqlite":
            # JSON text of base64 and hex: no quote or backslash to escape but the literal's.
            return f"(SELECT value AS ct FROM json_each({quote(json.dumps(values))})) AS {name}"
        array = ", ".join(quote(v) for v in values)
        return f"(SELECT UNNEST(CAST(ARRAY[{array}] AS TEXT[])) AS ct) AS {name}"

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
    assert module.__file__ is not None  # a regular package (it has an __init__.py)
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
    """DuckDB attached read-only to the program's database; intermediate tables live in DuckDB.

    The DuckDB database is in memory and private to the runner, so its tables are ordinary
    tables (which every cursor of the runner sees), not temporary ones (which only the
    connection that made them sees): the contacts are read by several cursors at once.
    """

    kind = "duckdb"

    def __init__(self, settings_dict: dict | None = None, memory_limit: str = "1GB"):
        import duckdb

        db = settings_dict or connection.settings_dict
        self.dialect = Dialect("duckdb")
        # Past its memory limit DuckDB writes intermediate tables to disk: client ids, and
        # the lists of which result ciphertexts are positive, which with a copy of the database
        # would reveal results. By default they would go to ".tmp" in the working directory,
        # with the default permissions; here, to a directory of this runner's own under
        # SALUS_HOME, owner-only, removed when the runner closes (or is dropped without that).
        self._spill: Path | None = _private_spill_directory()
        self._remove_spill = weakref.finalize(self, shutil.rmtree, self._spill, True)
        self._sqlite_name: str | None = None
        try:
            # Row order of intermediate tables does not matter (every query sorts or groups),
            # and keeping it would stop DuckDB from filling a table from both threads at once.
            self.con = duckdb.connect(":memory:", config={"memory_limit": memory_limit,
                                                          "preserve_insertion_order": False,
                                                          "temp_directory": str(self._spill)})
        except BaseException:
            self._remove_spill()
            raise
        # No progress bar: a long query would otherwise draw one on the server's error output.
        self.con.execute("SET enable_progress_bar = false")
        row = self.con.execute("SELECT current_setting('threads')").fetchone()
        assert row is not None  # a SELECT without FROM gives one row
        self.threads = int(row[0])
        # (kind, name) of what the current computation made: "TABLE" or "VIEW".
        self._made: list[tuple[str, str]] = []

        engine = db["ENGINE"]
        self.source = "sqlite" if engine.endswith("sqlite3") else "postgres"
        if engine.endswith("sqlite3"):
            self._sqlite_name = str(db["NAME"])
            self.con.execute(f"LOAD '{_extension_path('sqlite')}'")
            # Opened while no write is under way anywhere (see _hold_sqlite_open).
            with _no_write_under_way(self._sqlite_name):
                self.con.execute(f"ATTACH {quote(self._sqlite_name)} AS src (TYPE sqlite, READ_ONLY)")
                self._hold_sqlite_open()
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

    def id_literal(self, value: uuid.UUID) -> str:
        return quote(value.hex if self.source == "sqlite" else str(value))

    def materialise(self, name: str, sql: str) -> str:
        # A runner may serve several computations (monthly_trend): a name is reused.
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
        self._made.append(("TABLE", name))
        return name

    def rows(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def uuid(self, expr: str) -> str:
        # SQLite stores UUIDs as 32 hex characters: a UUID is 16 bytes, cheaper to group and
        # join on (the contacts are read with the same type).
        return f"CAST({expr} AS UUID)"

    def keys(self, name: str, values: list[str]) -> str:
        # One text parameter split in DuckDB: a list parameter is converted value by value in
        # Python, which costs more than the decryption that made it (measured).
        if any(" " in v or not v for v in values):
            raise ValueError("keys: values must be non-empty and have no space")
        self.con.execute(f"""CREATE OR REPLACE TABLE {name} AS
                             SELECT ct FROM (SELECT UNNEST(string_split($1, ' ')) AS ct) WHERE ct <> ''""",
                         [" ".join(values)])
        self._made.append(("TABLE", name))
        return name

    def drop(self, relation: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {relation}")
        self._made.remove(("TABLE", relation))

    def fork(self) -> DuckDBRunner:
        # A cursor is a second connection to the same in-memory database: it sees the tables
        # made so far and the attached source; closing it leaves them to this runner.
        child = object.__new__(DuckDBRunner)
        child.__dict__.update(self.__dict__)
        child.con = self.con.cursor()
        child._spill = None  # the parent's: it removes it when it closes
        return child

    def reset(self) -> None:
        """Drop the tables of one computation so the runner can serve the next."""
        for kind, name in reversed(self._made):
            self.con.execute(f"DROP {kind} IF EXISTS {name}")
        self._made.clear()

    def _hold_sqlite_open(self) -> None:
        """Keep one read transaction on the SQLite file open until :meth:`close`.

        DuckDB reads SQLite through a copy of SQLite of its own, beside the one Django uses in
        the same process. POSIX file locks belong to the process: when one copy closes a file
        it has open, the locks the other copy holds on that file are gone too
        (sqlite.org/howtocorrupt.html, "multiple copies of SQLite"), and DuckDB opens and
        closes the file for every range of contacts it reads, so a write of another thread
        could lose its lock to another process's write. While a connection of DuckDB's copy
        holds a read lock, that copy keeps the files its other connections close open until
        the lock ends; so DuckDB's copy closes nothing between this call and :meth:`close`
        (but its write-ahead log, which carries no lock). Both run while holding the write
        lock that every writer of Salus holds (salus.core.backends.sqlite3): whatever DuckDB
        closes then, no write is under way in any process.

        It also stops a stall: connections opening and closing the file side by side met
        SQLite's retry pause, which that copy sleeps in whole seconds (measured: a 1 s pause
        in about one computation in ten; none with the file held open).
        """
        self._keeper = self.con.cursor()
        self._keeper.execute("BEGIN TRANSACTION")
        self._keeper.execute("SELECT * FROM sqlite_query('src', 'SELECT COUNT(*) FROM sqlite_master')").fetchall()

    def close(self) -> None:
        if self._spill is None:  # a runner of fork(): its cursor only
            self.con.close()
            return
        # DuckDB's copy of SQLite closes its files now (see _hold_sqlite_open).
        with _no_write_under_way(self._sqlite_name):
            self.con.close()
        self._remove_spill()

    def _in_parallel(self, statements: list[str]) -> None:
        """Run ``statements`` on the runner's threads, each on a cursor of its own.

        A DuckDB query over ``sqlite_query`` runs on one thread and one SQLite connection (the
        cursor's transaction holds it), so separate cursors are what reads one SQLite file
        from several threads at once. DuckDB releases the GIL while it works.
        """
        # Each statement gets one DuckDB thread: a table filled from a one-threaded source by a
        # query allowed two threads was measured to cost twice the CPU (the second thread
        # burns as much as the first) and more time, not less.
        self.con.execute("SET threads = 1")
        try:
            self._run_each(statements)
        finally:
            self.con.execute(f"SET threads = {self.threads}")

    def _run_each(self, statements: list[str]) -> None:
        if len(statements) == 1:
            self.con.execute(statements[0])
            return
        # Cursors are made here, in this thread: making one is not safe from several threads.
        cursors = [self.con.cursor() for _ in range(min(max(1, self.threads), len(statements)))]
        queue = list(reversed(statements))

        def work(cur) -> None:
            while True:
                try:
                    sql = queue.pop()  # list.pop is atomic under the GIL
                except IndexError:
                    return
                cur.execute(sql)

        try:
            with ThreadPoolExecutor(max_workers=len(cursors)) as pool:
                for future in [pool.submit(work, cur) for cur in cursors]:
                    future.result()
        finally:
            for cur in cursors:
                cur.close()

    def read_contacts(self, read: ContactRead) -> str:
        if self.source == "sqlite":
            return self._read_sqlite_contacts(read)
        return self._read_postgres_contacts(read)

    # Ids per query of the source: SQLite takes statements of up to a million bytes by default.
    FIRST_DAY_IDS_PER_QUERY = 2000

    def first_day_contacts(self, clients: str) -> str:
        # The source is asked directly, with the ids written out: a join of DuckDB's table with
        # the attached one would copy every contact of the source into DuckDB first.
        ids = [client_id for (client_id,) in self.rows(f"SELECT DISTINCT client_id FROM {clients}")]
        contact, client = _contact_model()._meta.db_table, _client_model()._meta.db_table
        if self.source == "sqlite":
            source = ("(SELECT CAST(client_id AS UUID) AS client_id, CAST(site_id AS UUID) AS site_id, "
                      "CAST(occurred_at AS TIMESTAMP) AS occurred_at FROM sqlite_query('src', {query}))")
        else:
            source = "(SELECT client_id, site_id, occurred_at FROM postgres_query('src', {query}))"
        step = self.FIRST_DAY_IDS_PER_QUERY
        parts = [
            source.replace("{query}", quote(self._first_day_sql(
                f"IN ({', '.join(self.id_literal(i) for i in ids[at:at + step])})", contact, client)))
            for at in range(0, len(ids), step)
        ]
        if not parts:
            return self.materialise("ind_first_day", "SELECT CAST(NULL AS UUID) AS client_id, "
                                    "CAST(NULL AS UUID) AS site_id, CAST(NULL AS TIMESTAMP) AS occurred_at "
                                    "WHERE FALSE")
        return self.materialise("ind_first_day", " UNION ALL ".join(f"SELECT * FROM {part}" for part in parts))

    # SQLite --------------------------------------------------------------------------------
    # DuckDB's own scan of an attached SQLite table copies every column it needs of every row
    # into DuckDB (no condition reaches SQLite), and that copying is most of its cost. Asking
    # SQLite for the rows (sqlite_query) lets SQLite drop the others first: for a year at
    # 5 M contacts, 1.9 M rows of 5 M cross over instead of all of them.

    def _read_sqlite_contacts(self, read: ContactRead) -> str:
        from salus.services.models import Contact

        sq = Dialect("sqlite")
        whole_table = read.census is not None or read.days >= 180
        # ``+c.date`` when the whole table is read: the column has NUMERIC affinity, so SQLite
        # would try to turn the date literal into a number at every row (a tenth of the time
        # of the read, measured); without affinity the stored text is compared as it is.
        period, hist = self._contact_conditions(read, sq, "c", "+c.date" if whole_table else None)
        where = f"({period}) OR ({hist})" if hist else period
        # The 0/1 flags travel packed in one number (a bit each): fewer values to copy.
        packed = " + ".join(f"{1 << i} * c.{f}" for i, f in enumerate(CONTACT_FLAGS))
        select = ", ".join([
            *(f"c.{c}" for c in ("client_id", "site_id", "occurred_at", "date", *CONTACT_COUNTS)),
            f"{packed} AS packed",
            "CASE WHEN c.hiv_result_given = 1 THEN c.hiv_result END AS hiv_ct"
            if read.results or hist else "NULL AS hiv_ct",
            "CASE WHEN c.hcv_result_given = 1 THEN c.hcv_result END AS hcv_ct" if read.results else "NULL AS hcv_ct",
            "CASE WHEN c.art_status <> '' THEN c.art_status END AS art_ct" if hist else "NULL AS art_ct",
        ])
        table = Contact._meta.db_table
        if not whole_table:
            # A short period and no history: SQLite's date index finds the few rows.
            queries = [f"SELECT {select} FROM {table} c WHERE {where}"]
        else:
            # The whole table is read anyway: SQLite's plain scan (an index would add a lookup
            # per row), cut into ranges of rowids read side by side.
            rowids = self.con.execute(
                f"SELECT * FROM sqlite_query('src', 'SELECT (SELECT MIN(rowid) FROM {table}), (SELECT MAX(rowid) FROM {table})')"
            ).fetchone()
            assert rowids is not None  # a SELECT without FROM gives one row
            low, high = rowids
            queries = [
                f"SELECT {select} FROM {table} c NOT INDEXED WHERE c.rowid BETWEEN {lo} AND {hi} AND ({where})"
                for lo, hi in _ranges(int(low or 0), int(high or 0), parts=PARTS_PER_THREAD * max(1, self.threads))
            ]
        # sqlite_query returns text: each part is typed as it is read.
        # Counts as INTEGER (as Django stores them): DuckDB sums those in 64 bits, BIGINTs in 128.
        typed = ", ".join([
            # Ids as UUIDs (16 bytes) rather than 32 characters: cheaper to group and join on,
            # and PostgreSQL's type (DuckDB compares them with the text of other tables by
            # reading that as a UUID).
            "CAST(client_id AS UUID) AS client_id", "CAST(site_id AS UUID) AS site_id",
            "CAST(occurred_at AS TIMESTAMP) AS occurred_at", "CAST(date AS DATE) AS date",
            *(f"CAST({c} AS INTEGER) AS {c}" for c in CONTACT_COUNTS),
            "CAST(packed AS INTEGER) AS packed", "hiv_ct", "hcv_ct", "art_ct",
        ])
        return self._read_parts(self._part_template(read, f"(SELECT {typed} FROM sqlite_query('src', {{query}}))"),
                                queries)

    def _part_template(self, read: ContactRead, source: str) -> str:
        """The DuckDB query that types one part (``source``) of the contacts, with its 0/1 values
        packed in one byte (``{query}`` in ``source``: the part's query).

        Which rows are the period's and which the history's is worked out again here, from the
        values read, rather than sent by the database: that cost SQLite a tenth of the read
        (measured). A history row has an HIV result given or an ART status: hiv_ct or art_ct.
        """
        in_period, _ = self._contact_conditions(read, self.dialect, "q")
        in_hist = (
            f"q.date <= {self.dialect.date(read.census)} AND (q.hiv_ct IS NOT NULL OR q.art_ct IS NOT NULL)"
        ) if read.census is not None else "FALSE"
        return (
            f"SELECT q.client_id, q.occurred_at, q.date, {', '.join(f'q.{c}' for c in CONTACT_COUNTS)}, "
            f"CAST(q.packed + CASE WHEN {in_period} THEN {_IN_PERIOD} ELSE 0 END "
            f"+ CASE WHEN {in_hist} THEN {_IN_HIST} ELSE 0 END AS UTINYINT) AS bits, "
            f"q.hiv_ct, q.hcv_ct, q.art_ct, q.site_id FROM {source} q"
        )

    # PostgreSQL ----------------------------------------------------------------------------
    # DuckDB's scan of a PostgreSQL table sends simple conditions (the date range) to
    # PostgreSQL, but not an OR across columns (period or history), nor expressions. Asking
    # PostgreSQL for the rows (postgres_query) in ranges of table pages read side by side lets
    # it read the table once, drop the rows that are not needed and pack the flags.

    def _read_postgres_contacts(self, read: ContactRead) -> str:
        from salus.services.models import Contact

        pg = Dialect("postgresql")
        period, hist = self._contact_conditions(read, pg, "c")
        # The 0/1 flags packed in one number, a bit each. Which rows are the period's and which
        # the history's is worked out in DuckDB from the values read, as for SQLite.
        packed = " + ".join(f"{1 << i} * {pg.flag(f'c.{f}')}" for i, f in enumerate(CONTACT_FLAGS))
        select = ", ".join([
            *(f"c.{c}" for c in ("client_id", "site_id", "occurred_at", "date", *CONTACT_COUNTS)),
            f"{packed} AS packed",
            "CASE WHEN c.hiv_result_given THEN c.hiv_result END AS hiv_ct"
            if read.results or hist else "CAST(NULL AS TEXT) AS hiv_ct",
            "CASE WHEN c.hcv_result_given THEN c.hcv_result END AS hcv_ct"
            if read.results else "CAST(NULL AS TEXT) AS hcv_ct",
            "CASE WHEN c.art_status <> '' THEN c.art_status END AS art_ct" if hist else "CAST(NULL AS TEXT) AS art_ct",
        ])
        table = Contact._meta.db_table
        where = f"({period}) OR ({hist})" if hist else period
        whole_table = read.census is not None or read.days >= 180
        stats = self.con.execute(
            "SELECT * FROM postgres_query('src', "
            f"'SELECT relpages, current_setting(''server_version_num'')::int FROM pg_class WHERE oid = ''{table}''::regclass')"
        ).fetchone()
        # The table exists (::regclass fails otherwise), so pg_class has its row.
        assert stats is not None
        pages, version = stats
        if not whole_table or version < 140000 or pages < 1000:
            # A short period (the date index finds its rows), a small table, or a server
            # without TID range scans (PostgreSQL 13 would read the whole table for each part).
            queries = [f"SELECT {select} FROM {table} c WHERE {where}"]
        else:
            # Page ranges; the last one is open, for pages added since the table's statistics.
            bounds = [lo for lo, _hi in _ranges(0, int(pages) - 1, parts=PARTS_PER_THREAD * max(1, self.threads))]
            queries = [
                f"SELECT {select} FROM {table} c WHERE c.ctid >= '({lo},0)'::tid"
                + (f" AND c.ctid < '({bounds[i + 1]},0)'::tid" if i + 1 < len(bounds) else "")
                + f" AND ({where})"
                for i, lo in enumerate(bounds)
            ]
        return self._read_parts(self._part_template(read, "postgres_query('src', {query})"), queries)

    def _read_parts(self, template: str, queries: list[str]) -> str:
        """Fill one table per query of the source (``template`` with the quoted query in
        ``{query}``), side by side; returns the name of the view over all of them."""
        parts = [f"ind_scan_{i}" for i in range(len(queries))]
        self._made += [("TABLE", p) for p in parts]
        self._in_parallel([
            f"CREATE OR REPLACE TABLE {part} AS " + template.replace("{query}", quote(q))
            for part, q in reversed(list(zip(parts, queries, strict=True)))
        ])
        # The view gives the columns of Runner.read_contacts; the parts keep the 0/1 values
        # packed in one byte (fewer columns to fill and keep statistics for).
        union = " UNION ALL ".join(f"SELECT * FROM {p}" for p in parts)
        self.con.execute(f"""
            CREATE OR REPLACE VIEW ind_scan AS
            SELECT client_id, occurred_at, date, {', '.join(CONTACT_COUNTS)},
                   {', '.join(f'(bits >> {i}) & 1 AS {f}' for i, f in enumerate(CONTACT_FLAGS))},
                   hiv_ct, hcv_ct, art_ct, site_id,
                   (bits >> {_IN_PERIOD.bit_length() - 1}) & 1 AS in_period,
                   (bits >> {_IN_HIST.bit_length() - 1}) & 1 AS in_hist
            FROM ({union}) parts""")
        self._made.append(("VIEW", "ind_scan"))
        return "ind_scan"


def _no_write_under_way(sqlite_name: str | None):
    """Hold the write lock of the SQLite file ``sqlite_name`` (nothing for PostgreSQL): no
    write of Salus is under way anywhere meanwhile. If this thread's own write holds it, that
    write is the only one, and a second hold would wait for itself."""
    from django.db import connection as django_connection

    from salus.core.backends.sqlite3.base import holding_write_lock

    return holding_write_lock(sqlite_name, held_here=getattr(django_connection, "_salus_locked", False))


def remove_stale_spill_directories(older_than: dt.timedelta = dt.timedelta(hours=24)) -> int:
    """Remove the spill directories under SALUS_HOME/tmp that no computation has touched for
    ``older_than`` (left by a process killed half-way); returns how many. A computation takes
    seconds, so a day-old directory belongs to none."""
    import time

    parent = _spill_parent()
    if not parent.is_dir():
        return 0
    cutoff = time.time() - older_than.total_seconds()
    removed = 0
    for folder in parent.glob("duckdb-*"):
        try:
            newest = max([folder.stat().st_mtime, *(f.stat().st_mtime for f in folder.iterdir())])
        except OSError:  # removed meanwhile by the runner that made it
            continue
        if newest < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def _spill_parent() -> Path:
    """SALUS_HOME/tmp, where each DuckDB runner spills into a directory of its own."""
    from django.conf import settings

    return Path(settings.SALUS_HOME) / "tmp"


def _private_spill_directory() -> Path:
    """A new owner-only directory under SALUS_HOME/tmp for one DuckDB runner's spilled data."""
    parent = _spill_parent()
    parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(parent, 0o700)
    return Path(tempfile.mkdtemp(prefix="duckdb-", dir=parent))  # mkdtemp: mode 0700


def _ranges(low: int, high: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous ranges covering ``low``-``high`` (fewer if there are fewer values)."""
    if high < low:
        return [(low, high)]
    size = max(1, -(-(high - low + 1) // parts))
    return [(lo, min(high, lo + size - 1)) for lo in range(low, high + 1, size)]


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
