"""DuckDB over the database file and the database's own SQL give the same numbers."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import connection
from tests.indicators.conftest import AS_OF, add_two_sites_in_a_month

from salus.indicators.engine import compute_indicators
from salus.indicators.sources import DuckDBRunner, NativeRunner, choose_runner

pytestmark = pytest.mark.django_db


def _copy_of_test_database(tmp_path) -> dict:
    """The (committed) test database copied to a file DuckDB can attach."""
    path = tmp_path / "copy.sqlite3"
    connection.ensure_connection()
    dest = sqlite3.connect(path)
    connection.connection.backup(dest)
    dest.close()
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}


def _comparable(rows):
    return [{k: (round(v, 12) if isinstance(v, float) else v) for k, v in r.items()} for r in rows]


# Committed rows: the copy is taken outside any transaction.
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="copies the SQLite test database to a file")
@pytest.mark.parametrize("scope", [{}, {"area": "XL/NORTH"}, {"site": "SB1"}])
def test_it_gives_the_same_rows_through_duckdb_and_sqlite(world, tmp_path, scope):
    with NativeRunner() as r:
        native = compute_indicators("2025", as_of=AS_OF, runner=r, **scope)
    with DuckDBRunner(_copy_of_test_database(tmp_path)) as r:
        duck = compute_indicators("2025", as_of=AS_OF, runner=r, **scope)
    assert _comparable(duck) == _comparable(native)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="copies the SQLite test database to a file")
def test_it_gives_the_same_monthly_figures_through_both(world, tmp_path):
    db = _copy_of_test_database(tmp_path)
    for month in ("2025-01", "2025-06", "2025-12"):
        with NativeRunner() as r:
            native = compute_indicators(month, as_of=AS_OF, runner=r)
        with DuckDBRunner(db) as r:
            duck = compute_indicators(month, as_of=AS_OF, runner=r)
        assert _comparable(duck) == _comparable(native), month


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="copies the SQLite test database to a file")
@pytest.mark.parametrize("scope", [{}, {"area": "XL/NORTH"}, {"site": "SB1"}])
@pytest.mark.parametrize("disaggregate", [False, True])
def test_it_gives_the_same_one_pass_trend_through_both(world, record_contact, tmp_path, monkeypatch, scope,
                                                       disaggregate):
    from salus.indicators import engine

    add_two_sites_in_a_month(world, record_contact)
    monkeypatch.setattr(engine, "today", lambda: AS_OF)
    codes = ["CLIENTS_REACHED", "NEW_CLIENTS", "SYRINGES_DISTRIBUTED", "HIV_TESTS", "HCV_TESTS", "OST_COVERAGE"]
    with NativeRunner() as r:
        native = engine.monthly_trend(codes, "2024-12", "2025-12", runner=r, disaggregate=disaggregate, **scope)
    with DuckDBRunner(_copy_of_test_database(tmp_path)) as r:
        duck = engine.monthly_trend(codes, "2024-12", "2025-12", runner=r, disaggregate=disaggregate, **scope)
    if not disaggregate:
        assert len(native) == 13 * len(codes)
    assert _comparable(duck) == _comparable(native)


def test_it_uses_the_native_runner_inside_a_transaction(world):
    # The test runs inside a transaction whose rows DuckDB's own connection could not see.
    runner = choose_runner()
    try:
        assert runner.kind == "native"
    finally:
        runner.close()


def test_it_leaves_no_temporary_tables_behind(world):
    with NativeRunner() as r:
        compute_indicators("2025", as_of=AS_OF, runner=r)
    tables = connection.introspection.table_names(include_views=False)
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("SELECT name FROM sqlite_temp_master WHERE type = 'table'")
        else:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname LIKE 'pg_temp%'")
        temps = [r[0] for r in cur.fetchall()]
    assert not [t for t in [*tables, *temps] if t.startswith("salus_ind_")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="DuckDB's postgres extension needs PostgreSQL")
@pytest.mark.parametrize("scope", [{}, {"area": "XL/NORTH"}])
def test_it_gives_the_same_rows_through_duckdb_and_postgresql(world, scope):
    with NativeRunner() as r:
        native = compute_indicators("2025", as_of=AS_OF, runner=r, **scope)
    with DuckDBRunner() as r:
        duck = compute_indicators("2025", as_of=AS_OF, runner=r, **scope)
    assert _comparable(duck) == _comparable(native)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="DuckDB's postgres extension needs PostgreSQL")
def test_it_gives_the_same_one_pass_trend_through_duckdb_and_postgresql(world, record_contact, monkeypatch):
    from salus.indicators import engine

    monkeypatch.setattr(engine, "today", lambda: AS_OF)
    add_two_sites_in_a_month(world, record_contact)
    for disaggregate in (False, True):
        with NativeRunner() as r:
            native = engine.monthly_trend(None, "2024-12", "2025-12", runner=r, disaggregate=disaggregate)
        with DuckDBRunner() as r:
            duck = engine.monthly_trend(None, "2024-12", "2025-12", runner=r, disaggregate=disaggregate)
        assert _comparable(duck) == _comparable(native), disaggregate
    assert len(engine.monthly_trend(None, "2024-12", "2025-12")) == 13 * len(engine.TREND_CODES)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="copies the SQLite test database to a file")
def test_one_duckdb_runner_serves_several_computations(world, tmp_path):
    with DuckDBRunner(_copy_of_test_database(tmp_path)) as r:
        first = compute_indicators("2025", as_of=AS_OF, runner=r, disaggregate=False)
        again = compute_indicators("2025", as_of=AS_OF, runner=r, disaggregate=False)
        site = compute_indicators("2025", as_of=AS_OF, runner=r, site="SB1", disaggregate=False)
    assert _comparable(first) == _comparable(again)
    assert next(x for x in site if x["code"] == "CLIENTS_REACHED")["value"] == 2


@pytest.fixture
def tie_and_history(world, record_contact):
    """Client F: a positive HIV result given at SB1 in 2024, seen at NA1 in 2025, no ART status.
    Client G: first-ever contacts at NA1 and SB1 at the same moment of 2025."""
    import datetime as dt

    from django.utils import timezone

    a, b = world.program.site_a, world.program.site_b
    record_contact(b, "FFFF1990M", when=dt.date(2024, 3, 1), hiv_test_result="positive")
    record_contact(a, "FFFF1990M", when=dt.date(2025, 4, 1), syringes_given=2)
    moment = timezone.make_aware(dt.datetime(2025, 8, 1, 9, 30), dt.UTC)
    record_contact(a, "GGGG1990M", when=moment, syringes_given=2)
    record_contact(b, "GGGG1990M", when=moment, syringes_given=3)
    return world


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="copies the SQLite test database to a file")
def test_it_breaks_ties_and_reads_history_alike_through_both(tie_and_history, tmp_path):
    from tests.indicators.conftest import by_cell, total

    db = _copy_of_test_database(tmp_path)
    for scope in ({}, {"area": "XL/NORTH"}, {"site": "SB1"}):
        with NativeRunner() as r:
            native = compute_indicators("2025", as_of=AS_OF, runner=r, **scope)
        with DuckDBRunner(db) as r:
            duck = compute_indicators("2025", as_of=AS_OF, runner=r, **scope)
        assert _comparable(duck) == _comparable(native), scope
        if not scope:
            cells = by_cell(duck)
            # Same moment at two sites: the last contact is at the greater site code, the
            # first at the smaller one.
            sb1 = ("area", "XL/SOUTH/S1"), ("site", "SB1")
            na1 = ("area", "XL/NORTH/N1"), ("site", "NA1")
            assert cells[("CLIENTS_REACHED", sb1)]["numerator"] == 3  # A, E and G
            assert cells[("NEW_CLIENTS", na1)]["numerator"] == 4  # A, B, C and G
            # F's positive result of 2024, recorded at another site, makes F known positive.
            art = total(duck, "ART_PWID")
            assert (art["numerator"], art["denominator"]) == (1, 2)
        if scope.get("area"):
            # ... also when that site is outside the area in scope.
            art = total(duck, "ART_PWID")
            assert (art["numerator"], art["denominator"]) == (1, 2)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="DuckDB's postgres extension needs PostgreSQL")
def test_it_breaks_ties_and_reads_history_alike_through_duckdb_and_postgresql(tie_and_history):
    from tests.indicators.conftest import total

    for scope in ({}, {"area": "XL/NORTH"}):
        with NativeRunner() as r:
            native = compute_indicators("2025", as_of=AS_OF, runner=r, **scope)
        with DuckDBRunner() as r:
            duck = compute_indicators("2025", as_of=AS_OF, runner=r, **scope)
        assert _comparable(duck) == _comparable(native), scope
        art = total(duck, "ART_PWID")
        assert (art["numerator"], art["denominator"]) == (1, 2)


def test_it_cuts_the_contacts_table_into_ranges_that_cover_it_once():
    from salus.indicators.sources import _ranges

    for low, high, parts in ((1, 5_000_000, 16), (1, 10, 16), (7, 7, 4), (0, 99, 8), (3, 1, 8)):
        ranges = _ranges(low, high, parts)
        assert len(ranges) <= parts
        covered = [i for lo, hi in ranges for i in range(lo, hi + 1)] if high - low < 1000 else None
        if covered is not None:
            assert covered == list(range(low, high + 1))  # every rowid once, in order
        else:
            assert ranges[0][0] == low and ranges[-1][1] == high
            assert all(a[1] + 1 == b[0] for a, b in zip(ranges, ranges[1:], strict=False))


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="copies the SQLite test database to a file")
def test_duckdb_spills_only_into_an_owner_only_directory_of_its_own(world, tmp_path, settings, monkeypatch):
    import stat
    import threading
    import time
    from pathlib import Path

    settings.SALUS_HOME = tmp_path / "home"
    monkeypatch.chdir(tmp_path)  # DuckDB's default would be ".tmp" here
    runner = DuckDBRunner(_copy_of_test_database(tmp_path), memory_limit="32MB")
    spill = Path(runner.con.execute("SELECT current_setting('temp_directory')").fetchone()[0])
    assert spill.parent == settings.SALUS_HOME / "tmp"
    for folder in (spill, spill.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    # A sort of more than the memory limit: DuckDB writes part of it to disk while it runs.
    seen: set[str] = set()
    done = threading.Event()

    def sort() -> None:
        try:
            runner.con.execute("SET threads = 1")
            runner.con.execute("SELECT COUNT(*) FROM (SELECT md5(CAST(i AS VARCHAR)) AS h "
                               "FROM range(3000000) t(i) ORDER BY h)").fetchall()
        finally:
            done.set()

    thread = threading.Thread(target=sort)
    thread.start()
    while not done.is_set():
        seen.update(p.name for p in spill.iterdir())
        time.sleep(0.002)
    thread.join()
    assert seen, "the sort did not spill: raise its size"
    assert not (tmp_path / ".tmp").exists()
    # A second thread's runner shares the directory and leaves it to the first.
    runner.fork().close()
    assert spill.exists()
    runner.close()
    assert not spill.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="copies the SQLite test database to a file")
def test_a_duckdb_runner_dropped_without_closing_leaves_no_directory(world, tmp_path, settings):
    import gc
    from pathlib import Path

    settings.SALUS_HOME = tmp_path / "home"
    runner = DuckDBRunner(_copy_of_test_database(tmp_path))
    spill = Path(runner.con.execute("SELECT current_setting('temp_directory')").fetchone()[0])
    assert spill.exists()
    del runner
    gc.collect()
    assert not spill.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="copies the SQLite test database to a file")
def test_duckdb_leaves_the_locks_of_the_other_sqlite_in_the_process_alone(world, tmp_path):
    """DuckDB's own copy of SQLite closing a file would drop the locks Django's copy holds on it
    in this process (POSIX locks belong to the process): a write that starts while a runner
    is open must keep its lock however much the runner reads."""
    import subprocess
    import sys

    db = _copy_of_test_database(tmp_path)
    sqlite3.connect(db["NAME"]).execute("PRAGMA journal_mode=WAL").fetchall()
    runner = DuckDBRunner(db)
    writer = sqlite3.connect(db["NAME"], isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # a write under way in this process
        compute_indicators("2025", as_of=AS_OF, runner=runner)
        # Another process must still find the database being written.
        probe = subprocess.run(
            [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=0); "
             "c.execute('BEGIN IMMEDIATE')", db["NAME"]],
            capture_output=True, text=True)
        assert probe.returncode != 0 and "locked" in probe.stderr, probe.stderr
        writer.execute("ROLLBACK")
    finally:
        writer.close()
        runner.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="copies the SQLite test database to a file")
def test_duckdb_opens_and_closes_the_file_only_when_no_write_is_under_way(world, tmp_path):
    import threading

    from salus.core.backends.sqlite3.base import holding_write_lock

    db = _copy_of_test_database(tmp_path)
    order = []
    with holding_write_lock(db["NAME"]):  # a write of Salus under way
        opened = threading.Thread(target=lambda: order.append(DuckDBRunner(db)))
        opened.start()
        opened.join(0.5)
        assert opened.is_alive()  # waits for the write to end
        order.append("write ended")
    opened.join(30)
    runner = order[1]
    assert order[0] == "write ended"
    with holding_write_lock(db["NAME"]):
        closing = threading.Thread(target=runner.close)
        closing.start()
        closing.join(0.5)
        assert closing.is_alive()
    closing.join(30)
    assert not closing.is_alive()


def test_stale_spill_directories_are_removed_and_fresh_ones_kept(tmp_path, settings):
    import datetime as dt
    import os
    import time

    from salus.indicators.sources import remove_stale_spill_directories

    settings.SALUS_HOME = tmp_path
    (tmp_path / "tmp").mkdir()
    old, fresh, other = (tmp_path / "tmp" / n for n in ("duckdb-old", "duckdb-fresh", "backup-work"))
    for folder in (old, fresh, other):
        folder.mkdir()
        (folder / "duckdb_temp_storage-0.tmp").write_bytes(b"x")
    two_days_ago = time.time() - 2 * 86400
    for path in (old, old / "duckdb_temp_storage-0.tmp", other):
        os.utime(path, (two_days_ago, two_days_ago))
    # A directory whose newest file was written an hour ago is in use.
    os.utime(fresh, (two_days_ago, two_days_ago))
    assert remove_stale_spill_directories(dt.timedelta(hours=24)) == 1
    assert not old.exists() and fresh.exists() and other.exists()


@pytest.fixture
def first_seen_at_two_sites(tie_and_history, record_contact):
    """Client H: first seen at SB1 at 08:00 and at NA1 at 10:00 on 3 March 2025 (and G, first
    seen at both at the same moment)."""
    import datetime as dt

    from django.utils import timezone

    a, b = tie_and_history.program.site_a, tie_and_history.program.site_b
    record_contact(b, "HHHH1990M", when=timezone.make_aware(dt.datetime(2025, 3, 3, 8, 0), dt.UTC))
    record_contact(a, "HHHH1990M", when=timezone.make_aware(dt.datetime(2025, 3, 3, 10, 0), dt.UTC))
    return tie_and_history


@pytest.mark.django_db(transaction=True)
def test_a_new_client_is_new_at_their_first_site_on_every_page(first_seen_at_two_sites, tmp_path):
    """A client first seen at two sites on one day is new at the first of them only: on that
    site's own page, its area's and the program's alike, so a place's new clients are the sum
    of its sites' (suppression across places relies on it). For a year and month by month,
    totals and cells, through both runners."""
    from tests.indicators.conftest import by_cell, total

    from salus.indicators.engine import monthly_trend

    # DuckDB over a copy of the SQLite file, or over the PostgreSQL database itself.
    db = _copy_of_test_database(tmp_path) if connection.vendor == "sqlite" else None
    na1 = ("area", "XL/NORTH/N1"), ("site", "NA1")
    sb1 = ("area", "XL/SOUTH/S1"), ("site", "SB1")
    pages = {"NA1": {"site": "NA1"}, "SB1": {"site": "SB1"}, "north": {"area": "XL/NORTH"},
             "south": {"area": "XL/SOUTH"}}
    for make in (NativeRunner, lambda: DuckDBRunner(db)):
        with make() as r:
            program = by_cell(compute_indicators("2025", as_of=AS_OF, runner=r, codes=["NEW_CLIENTS"]))
        new = {}
        for name, scope in pages.items():
            with make() as r:
                new[name] = total(compute_indicators("2025", as_of=AS_OF, runner=r, codes=["NEW_CLIENTS"], **scope),
                                  "NEW_CLIENTS")["numerator"]
        # A, B, C and G (G's tie goes to the lesser code); not H, first seen at SB1.
        assert program[("NEW_CLIENTS", na1)]["numerator"] == new["NA1"] == new["north"] == 4
        assert program[("NEW_CLIENTS", sb1)]["numerator"] == new["SB1"] == new["south"]
        assert new["NA1"] + new["SB1"] == program[("NEW_CLIENTS", ())]["numerator"]

        def march(rows):
            return [row for row in rows if row["period"] == "2025-03" and row["code"] == "NEW_CLIENTS"]

        for disaggregate in (False, True):
            in_march = {}
            for name, scope in {"program": {}, **pages}.items():
                with make() as r:
                    in_march[name] = by_cell(march(monthly_trend(["NEW_CLIENTS"], "2025-03", "2025-03", runner=r,
                                                                 disaggregate=disaggregate, **scope)))
            # H is March's only new client, at SB1.
            assert [in_march[n][("NEW_CLIENTS", ())]["numerator"] for n in ("program", "NA1", "SB1", "north", "south")] \
                == [1, 0, 1, 0, 1], disaggregate
            if disaggregate:
                assert in_march["program"][("NEW_CLIENTS", sb1)]["numerator"] == 1
                assert in_march["program"][("NEW_CLIENTS", na1)]["numerator"] == 0
