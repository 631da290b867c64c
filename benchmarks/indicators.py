"""Speed of the indicator engine on a national-scale synthetic program.

Generates a made-up program straight into a fresh database with bulk SQL (default: 300,000
clients, 200 sites in 40 districts of 8 provinces, 5 million contacts over 2023-2025, OST
episodes and doses, referrals, overdose events, stock movements, population size estimates),
then, in a fresh process, times the full catalogue for 2025 with every disaggregation and the
fastest hand-written aggregate over the same rows (unique clients and syringes in 2025), and
prints both, their ratio and the peak resident memory (``*_cpu_here``: CPU seconds of the
measuring process, all its threads; ``*_cpu_server``: those of a local PostgreSQL server,
when it can be read). Nothing here is real data.

    .venv/bin/python benchmarks/indicators.py [--contacts N] [--keep DIR] [--database-url URL]
                                              [--repeat N] [--stages]

``--repeat N`` times the references and the engine N times, alternating, and gives the ratio of
each run; ``--stages`` adds the wall and CPU seconds of each step of the engine.

``--keep DIR`` keeps the generated SQLite database in DIR and reuses it on the next run with
the same sizes. ``--database-url postgres://...`` generates into (and times) PostgreSQL; the
database must exist and be empty (it is migrated here).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

FIRST_DAY = dt.date(2023, 1, 1)
LAST_DAY = dt.date(2025, 12, 31)
PERIOD = "2025"


def setup(home: str, database_url: str | None) -> None:
    os.environ["SALUS_HOME"] = home
    os.environ["DJANGO_SETTINGS_MODULE"] = "salus.settings"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


# --------------------------------------------------------------------------- generation


def _ids(start: int, n: int) -> list[str]:
    """Ordered 32-hex ids (valid UUIDs for Django and PostgreSQL); in order so B-trees append."""
    return [f"{start + i:032x}" for i in range(n)]


class Writer:
    """Bulk rows into SQLite (executemany, no journal) or PostgreSQL (COPY, no FK triggers)."""

    def __init__(self):
        from django.db import connection

        self.vendor = connection.vendor
        connection.close()
        settings = connection.settings_dict
        if self.vendor == "sqlite":
            import sqlite3

            self.con = sqlite3.connect(settings["NAME"], isolation_level=None)
            self.con.execute("PRAGMA journal_mode=OFF")
            self.con.execute("PRAGMA synchronous=OFF")
            self.con.execute("PRAGMA foreign_keys=OFF")
            self.con.execute("PRAGMA cache_size=-400000")
            self.con.execute("BEGIN")
        else:
            import psycopg

            self.con = psycopg.connect(
                dbname=settings["NAME"], user=settings.get("USER") or None, password=settings.get("PASSWORD") or None,
                host=settings.get("HOST") or None, port=settings.get("PORT") or None,
            )
            self.con.execute("SET session_replication_role = replica")
        self.dropped: list[tuple[str, str]] = []
        self.dropped_tables: list[tuple[str, str]] = []

    def drop_indexes(self, table: str) -> None:
        """Drop secondary indexes of ``table`` (rebuilt by finish(): faster than growing them)."""
        if self.vendor == "sqlite":
            rows = self.con.execute(
                "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name=? AND sql IS NOT NULL", (table,)
            ).fetchall()
            for name, sql in rows:
                self.con.execute(f'DROP INDEX "{name}"')
                self.dropped.append((name, sql))
            self.dropped_tables.append((table, ""))
        else:
            rows = self.con.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND i.indexname NOT IN "
                "(SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))", (table,)
            ).fetchall()
            for name, sql in rows:
                self.con.execute(f'DROP INDEX "{name}"')
                self.dropped.append((name, sql))
            self.dropped_tables.append((table, ""))

    def insert(self, table: str, cols: list[str], rows) -> None:
        if table not in {t for t, _sql in self.dropped_tables}:
            self.drop_indexes(table)
        if self.vendor == "sqlite":
            marks = ",".join("?" * len(cols))
            self.con.executemany(f'INSERT INTO "{table}" ({",".join(cols)}) VALUES ({marks})', rows)
        else:
            with self.con.cursor().copy(f'COPY "{table}" ({",".join(cols)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)

    def finish(self) -> None:
        for _name, sql in self.dropped:
            self.con.execute(sql)
        if self.vendor == "sqlite":
            self.con.execute("COMMIT")
            self.con.execute("ANALYZE")
            self.con.execute("PRAGMA journal_mode=WAL")
        else:
            self.con.commit()
            self.con.autocommit = True
            self.con.execute("ANALYZE")
        self.con.close()


def generate(n_contacts: int, n_clients: int, n_sites: int, n_areas: int, seed: int) -> dict:
    import numpy as np
    from django.core.management import call_command

    from salus.core import crypto
    from salus.core.actions import do_ensure_area_path, do_save_site
    from salus.core.keys import ensure_keys
    from salus.core.models import PopulationSizeEstimate

    t0 = time.perf_counter()
    ensure_keys()
    call_command("migrate", interactive=False, verbosity=0)
    rng = np.random.default_rng(seed)
    provinces = 8
    sites, site_area = [], []
    for i in range(n_areas):
        path = f"BX/P{i % provinces}/D{i:02d}"
        area = do_ensure_area_path("benchmark", path)
        for j in range(n_sites // n_areas):
            s, _ = do_save_site("benchmark", code=f"S{i:02d}{j}", name=f"Site {i}-{j}", area=area, kind="drop_in")
            sites.append(s.id.hex)
            site_area.append(i)
    from salus.core.models import Area

    for year in (2023, 2024, 2025):
        country = Area.objects.get(path="BX")
        PopulationSizeEstimate.objects.create(area=country, population="pwid", year=year, estimate=400_000,
                                              low=300_000, high=520_000, method="synthetic", source="benchmark (made up)")
        PopulationSizeEstimate.objects.create(area=country, population="opioid_dependent", year=year, estimate=250_000,
                                              low=200_000, high=320_000, method="synthetic", source="benchmark (made up)")
    n_sites = len(sites)
    days = (LAST_DAY - FIRST_DAY).days + 1
    day_text = [(FIRST_DAY + dt.timedelta(days=i)).isoformat() for i in range(days)]
    w = Writer()
    now = "2026-01-01 00:00:00"

    # Clients: sex, birth year, injecting, a home site; how often each comes is skewed.
    sex = rng.choice(np.array(["F", "M", "T", "X"]), size=n_clients, p=[0.2, 0.74, 0.03, 0.03])
    birth = rng.integers(1962, 2007, size=n_clients)
    birth_known = rng.random(n_clients) > 0.05
    injects = rng.random(n_clients) < 0.85
    home = rng.integers(0, n_sites, size=n_clients)
    hiv_pos = rng.random(n_clients) < 0.08
    hcv_pos = rng.random(n_clients) < 0.4
    weight = rng.lognormal(0, 1.0, size=n_clients)
    weight /= weight.sum()
    client_ids = _ids(1 << 100, n_clients)

    # Contacts, in chunks; first contact per client tracked for Client.first_contact_date.
    first_day = np.full(n_clients, days, dtype=np.int64)
    syringes_by_site_day = np.zeros((n_sites, days), dtype=np.int64)
    condoms_by_site_day = np.zeros((n_sites, days), dtype=np.int64)
    from salus.services.models import Contact

    ctx = {f: Contact._meta.get_field(f)._context for f in ("hiv_result", "hcv_result", "art_status")}
    cols = [f.column for f in Contact._meta.concrete_fields]
    chunk = 250_000
    contact_base = 1 << 101
    referral_rows, overdose_rows = [], []
    done = 0
    # Contacts are written in date order, as a program records them over the years.
    all_days = np.sort(rng.integers(0, days, size=n_contacts))
    while done < n_contacts:
        m = min(chunk, n_contacts - done)
        cl = rng.choice(n_clients, size=m, p=weight)
        st = np.where(rng.random(m) < 0.9, home[cl], rng.integers(0, n_sites, size=m))
        dy = all_days[done:done + m]
        secs = rng.integers(8 * 3600, 20 * 3600, size=m)
        syr = np.where(rng.random(m) < 0.8, rng.poisson(12, size=m), 0)
        ret = (syr * rng.random(m) * 0.8).astype(np.int64)
        con = np.where(rng.random(m) < 0.4, rng.poisson(5, size=m), 0)
        nal = (rng.random(m) < 0.05).astype(np.int64)
        edu = rng.random(m) < 0.3
        hiv_t = rng.random(m) < 0.05
        hiv_g = hiv_t & (rng.random(m) < 0.9)
        hcv_t = rng.random(m) < 0.04
        hcv_g = hcv_t & (rng.random(m) < 0.9)
        art = hiv_pos[cl] & (rng.random(m) < 0.3)
        np.minimum.at(first_day, cl, dy)
        np.add.at(syringes_by_site_day, (st, dy), syr)
        np.add.at(condoms_by_site_day, (st, dy), con)
        ids = _ids(contact_base + done, m)
        rows = []
        for k in range(m):
            c = cl[k]
            hiv_value = ("positive" if hiv_pos[c] else "negative") if hiv_g[k] else ("not_given" if hiv_t[k] else "")
            hcv_value = ("positive" if hcv_pos[c] else "negative") if hcv_g[k] else ("not_given" if hcv_t[k] else "")
            s = int(secs[k])
            rows.append({
                "id": ids[k], "client_id": client_ids[c], "site_id": sites[st[k]], "staff_id": None,
                "occurred_at": f"{day_text[dy[k]]} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}",
                "date": day_text[dy[k]], "setting": "fixed_site", "syringes_given": int(syr[k]),
                "syringes_returned": int(ret[k]), "other_equipment_given": 0, "condoms_given": int(con[k]),
                "naloxone_kits_given": int(nal[k]), "education": bool(edu[k]), "hiv_tested": bool(hiv_t[k]),
                "hiv_result_given": bool(hiv_g[k]),
                "hiv_result": crypto.encrypt(hiv_value, ctx["hiv_result"]) if hiv_value else "",
                "hcv_tested": bool(hcv_t[k]), "hcv_result_given": bool(hcv_g[k]),
                "hcv_result": crypto.encrypt(hcv_value, ctx["hcv_result"]) if hcv_value else "",
                "art_status": crypto.encrypt("on_art" if k % 4 else "not_on_art", ctx["art_status"]) if art[k] else "",
                "sti_screened": False, "tb_screened": False, "hbv_vaccinated": False, "wound_care": False,
                "released_from_detention_on": None, "left_treatment_on": None,
                "overdose_since_last_contact": None, "uses_alone": None, "mixes_depressants": None,
                "notes": "", "source": "demo", "content_hash": "", "created_at": now,
            })
            if k % 20 == 0:
                referral_rows.append((client_ids[c], sites[st[k]], ids[k], day_text[dy[k]], int(secs[k]) % 4))
            if k % 200 == 7:
                overdose_rows.append((client_ids[c], sites[st[k]], day_text[dy[k]], int(secs[k]) % 3))
        w.insert("services_contact", cols, ([r[c] for c in cols] for r in rows))
        done += m
        print(f"  contacts {done:,}/{n_contacts:,} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)

    first = [day_text[d] if d < days else None for d in first_day]
    w.insert("clients_client", ["id", "uic_hash", "sex", "birth_year", "injects", "substances", "first_contact_date",
                                "consent_follow_up", "registered_at", "registered_site_id", "merged_into_id"],
             ((client_ids[i], f"{i:064x}", str(sex[i]), int(birth[i]) if birth_known[i] else None, bool(injects[i]),
               "[]", first[i], False, now, sites[home[i]], None) for i in range(n_clients)))

    statuses = ("attended", "made", "not_attended", "lost")
    w.insert("services_referral", ["id", "client_id", "site_id", "contact_id", "made_by_id", "service", "made_on",
                                   "status", "outcome_on", "note", "updated_at"],
             ((rid, c, s, cid, None, "hiv_care", d, statuses[k], None, "", now)
              for rid, (c, s, cid, d, k) in zip(_ids(1 << 102, len(referral_rows)), referral_rows, strict=True)))
    outcomes = ("survived", "survived", "unknown")
    w.insert("services_overdoseevent", ["id", "client_id", "site_id", "contact_id", "recorded_by_id", "date",
                                        "involvement", "naloxone_given", "naloxone_kits_used", "outcome",
                                        "emergency_called", "details"],
             ((oid, c, s, None, None, d, "witnessed", k != 2, 1 if k != 2 else 0, outcomes[k], False, "")
              for oid, (c, s, d, k) in zip(_ids(1 << 103, len(overdose_rows)), overdose_rows, strict=True)))

    # OST: about one client in twelve, one or two episodes each; a dose record every 30 days.
    ost_clients = rng.choice(n_clients, size=n_clients // 12, replace=False)
    episodes, doses = [], []
    ep_ids = iter(_ids(1 << 104, len(ost_clients) * 2))
    dose_n = 0
    for c in ost_clients:
        start = int(rng.integers(0, days - 30))
        for _ in range(2):
            length = int(rng.exponential(420))
            end = start + length if start + length < days else None
            med = "methadone" if rng.random() < 0.8 else "buprenorphine"
            eid = next(ep_ids)
            episodes.append((eid, client_ids[c], sites[home[c]], med, day_text[start],
                             day_text[end] if end is not None else None, "voluntary" if end is not None else "", None, "demo"))
            dose = float(rng.integers(40, 121)) if med == "methadone" else float(rng.integers(4, 17))
            last = end if end is not None else days - 1
            for d in range(start, last + 1, 30):
                phase = "induction" if d - start < 14 else ("reducing" if end is not None and last - d < 45 else "maintenance")
                doses.append((f"{(1 << 105) + dose_n:032x}", eid, day_text[d], dose if phase != "induction" else 30.0, phase, 0, None))
                dose_n += 1
            if end is None or end + 60 >= days:
                break
            start = end + 60
    w.insert("services_ostepisode", ["id", "client_id", "site_id", "medication", "start_date", "end_date",
                                     "end_reason", "created_by_id", "source"], episodes)
    w.insert("services_ostdose", ["id", "episode_id", "date", "dose_mg", "phase", "take_home_doses", "recorded_by_id"], doses)

    # Stock: monthly receipts a little below need (so some sites run out), daily distributions.
    moves = []
    mv = iter(range(10 ** 9))
    for commodity, given in (("syringe", syringes_by_site_day), ("condom", condoms_by_site_day)):
        for s in range(n_sites):
            month_need = given[s].sum() / (days / 30.4)
            for d in range(days):
                if d % 30 == 0:
                    moves.append((f"{(1 << 106) + next(mv):032x}", sites[s], commodity, "receipt",
                                  int(month_need * rng.uniform(0.8, 1.1)), day_text[d], now, None, None, ""))
                if given[s, d]:
                    moves.append((f"{(1 << 106) + next(mv):032x}", sites[s], commodity, "distribution",
                                  -int(given[s, d]), day_text[d], now, None, None, ""))
    w.insert("stock_stockmovement", ["id", "site_id", "commodity_id", "kind", "quantity", "occurred_on", "at",
                                     "contact_id", "recorded_by_id", "note"], moves)
    w.finish()
    return {
        "contacts": n_contacts, "clients": n_clients, "sites": n_sites, "areas": n_areas,
        "ost_episodes": len(episodes), "ost_doses": len(doses), "referrals": len(referral_rows),
        "overdoses": len(overdose_rows), "stock_movements": len(moves),
        "generate_seconds": round(time.perf_counter() - t0, 1),
    }


# --------------------------------------------------------------------------- measurement


def _parts_reference(runner, period) -> str:
    """The same aggregate, its rows asked of the database in ranges read side by side (the way
    the engine reads contacts): SQLite rowid ranges or PostgreSQL page ranges, each filtered by
    the database on its own DuckDB cursor and thread; then one DuckDB aggregate over them."""
    import threading

    from salus.indicators.sources import quote
    from salus.services.models import Contact

    table = Contact._meta.db_table
    a, b = period.start.isoformat(), period.end.isoformat()
    con = runner.con
    if runner.source == "sqlite":
        low, high = con.execute(
            f"SELECT * FROM sqlite_query('src', 'SELECT (SELECT MIN(rowid) FROM {table}), (SELECT MAX(rowid) FROM {table})')"
        ).fetchone()
        low, high = int(low), int(high)  # sqlite_query gives text
        size = -(-(high - low + 1) // 8)
        queries = [
            f"SELECT client_id, syringes_given FROM {table} NOT INDEXED "
            f"WHERE rowid BETWEEN {lo} AND {lo + size - 1} AND +date >= '{a}' AND +date <= '{b}'"
            for lo in range(low, high + 1, size)
        ]
        function = "sqlite_query"
    else:
        pages = con.execute(
            f"SELECT * FROM postgres_query('src', 'SELECT relpages FROM pg_class WHERE oid = ''{table}''::regclass')"
        ).fetchone()[0]
        pages = int(pages)
        size = -(-max(pages, 1) // 8)
        bounds = list(range(0, max(pages, 1), size))
        queries = [
            f"SELECT client_id, syringes_given FROM {table} WHERE ctid >= '({lo},0)'::tid"
            + (f" AND ctid < '({bounds[i + 1]},0)'::tid" if i + 1 < len(bounds) else "")
            + f" AND date >= DATE '{a}' AND date <= DATE '{b}'"
            for i, lo in enumerate(bounds)
        ]
        function = "postgres_query"
    todo = [f"CREATE OR REPLACE TABLE ref_{i} AS SELECT * FROM {function}('src', {quote(q)})"
            for i, q in enumerate(queries)][::-1]
    con.execute("SET threads = 1")  # one DuckDB thread per part, as the engine does
    cursors = [con.cursor() for _ in range(runner.threads)]

    def work(cur):
        while todo:
            try:
                sql = todo.pop()
            except IndexError:
                return
            cur.execute(sql)

    threads = [threading.Thread(target=work, args=(c,)) for c in cursors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    con.execute(f"SET threads = {runner.threads}")
    union = " UNION ALL ".join(f"SELECT * FROM ref_{i}" for i in range(len(queries)))
    return f"SELECT COUNT(DISTINCT client_id), SUM(CAST(syringes_given AS BIGINT)) FROM ({union}) parts"


def reference_queries(period) -> dict[str, float]:
    """The fastest hand-written aggregate: unique clients and syringes in the period.

    Several ways of running it are timed and the benchmark takes the fastest: DuckDB's own scan
    of the table, the database's date index feeding DuckDB (SQLite), the rows asked of the
    database in parallel ranges (as the engine reads), and the database's own SQL.
    """
    from django.db import connection

    from salus.indicators.sources import DuckDBRunner, NativeRunner

    sql = (
        "SELECT COUNT(DISTINCT client_id), SUM(syringes_given) FROM {t} "
        "WHERE date >= {a} AND date <= {b}"
    )
    timings = {}
    for runner_class in (DuckDBRunner, NativeRunner):
        if runner_class is NativeRunner and connection.vendor == "sqlite" and os.environ.get("BENCH_SKIP_NATIVE_REF"):
            continue
        r = runner_class()
        from salus.services.models import Contact

        queries = {r.kind: sql.format(t=r.table(Contact), a=r.dialect.date(period.start), b=r.dialect.date(period.end))}
        if r.kind == "duckdb" and getattr(r, "source", "") == "sqlite":
            # The same aggregate with SQLite's own date index doing the filtering.
            inner = (f"SELECT client_id, syringes_given FROM {Contact._meta.db_table} "
                     f"WHERE date >= '{period.start}' AND date <= '{period.end}'")
            queries["duckdb_sqlite_index"] = (
                "SELECT COUNT(DISTINCT client_id), SUM(CAST(syringes_given AS BIGINT)) "
                f"FROM sqlite_query('src', '{inner.replace(chr(39), chr(39) * 2)}')"
            )
        if r.kind == "duckdb":
            queries["duckdb_parts"] = None  # made (and timed) below
        for name, q in queries.items():
            t0, c0 = time.perf_counter(), time.process_time()
            if q is None:
                q = _parts_reference(r, period)
            result = r.rows(q)
            timings[f"reference_{name}"] = round(time.perf_counter() - t0, 3)
            timings[f"reference_{name}_cpu_here"] = round(time.process_time() - c0, 3)
            timings[f"reference_{name}_result"] = [int(x) for x in result[0]]
        r.close()
    return timings


class StageClock:
    """Wall and CPU seconds of each step of the engine (``--stages``), by wrapping its methods.

    Steps nest (``contacts`` holds ``read_contacts``...) and may run on two threads at once;
    "this thread" is the CPU of the thread that ran the step (DuckDB's own worker threads are
    not in it), "whole process" all threads' CPU over the step's time.
    """

    STEPS = ("read_contacts", "contacts", "decrypt_results", "_clients", "_contact_counts", "clinical", "_positivity",
             "_art", "ost", "referrals",
             "overdoses", "stockouts")

    def __init__(self):
        from salus.indicators import engine

        self.lines: list[tuple[str, str, float, float, float]] = []
        self._undo = []
        for cls, names in ((engine._Computation, self.STEPS),):
            for name in names:
                if hasattr(cls, name):
                    self._wrap(cls, name)

    def _wrap(self, cls, name):
        original = getattr(cls, name)
        clock = self

        def timed(*args, **kwargs):
            t0, c0, p0 = time.perf_counter(), time.thread_time(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                import threading

                clock.lines.append((threading.current_thread().name, name, time.perf_counter() - t0,
                                    time.thread_time() - c0, time.process_time() - p0))

        setattr(cls, name, timed)
        self._undo.append((cls, name, original))

    def report(self) -> list[str]:
        return [f"{thread[:22]:22s} {name:16s} {wall:7.3f} s wall {cpu:7.3f} s CPU this thread "
                f"{proc:7.3f} s CPU whole process" for thread, name, wall, cpu, proc in self.lines]


def server_cpu() -> float | None:
    """CPU seconds used so far by a local PostgreSQL server (its live and finished processes),
    or None when it cannot be read from here."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT setting FROM pg_settings WHERE name = 'data_directory'")
            folder = cur.fetchone()[0]
        with open(os.path.join(folder, "postmaster.pid")) as f:
            postmaster = int(f.readline())
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in filter(str.isdigit, os.listdir("/proc")):
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(pid) == postmaster:  # finished backends are counted in the postmaster's cutime
                total += sum(int(x) for x in fields[11:15])
            elif int(fields[1]) == postmaster:
                total += int(fields[11]) + int(fields[12])
        return total / tick
    except (OSError, ValueError, TypeError, IndexError):
        return None


def measure(engines: list[str], repeat: int, stages: bool) -> dict:
    from django.db import connection

    from salus.indicators.engine import compute_indicators
    from salus.indicators.periods import parse_period
    from salus.indicators.sources import DuckDBRunner, NativeRunner

    out: dict = {}
    period = parse_period(PERIOD)
    clock = StageClock() if stages else None
    for run in range(repeat):
        # References and engine alternate, so that both see the same machine.
        suffix = f"_run{run + 1}" if repeat > 1 else ""
        out.update({k + suffix if not k.endswith(("_result",)) else k: v
                    for k, v in reference_queries(period).items()})
        for engine in engines:
            runner = DuckDBRunner() if engine == "duckdb" else NativeRunner()
            if clock:
                clock.lines.clear()
            s0 = server_cpu()
            t0, c0 = time.perf_counter(), time.process_time()
            rows = compute_indicators(PERIOD, as_of=dt.date(2026, 1, 1), runner=runner)
            out[f"engine_{engine}{suffix}"] = round(time.perf_counter() - t0, 3)
            out[f"engine_{engine}_cpu_here{suffix}"] = round(time.process_time() - c0, 3)
            # Other work on the machine slows every figure: how busy it was, run by run.
            out[f"load_average_1min{suffix}"] = round(os.getloadavg()[0], 2)
            if s0 is not None:
                out[f"engine_{engine}_cpu_server{suffix}"] = round(server_cpu() - s0, 2)
            runner.close()
            if clock:
                out[f"engine_{engine}_stages{suffix}"] = clock.report()
            out[f"engine_{engine}_rows"] = len(rows)
            total = {r["code"]: r for r in rows if not r["disaggregation"]}
            out[f"engine_{engine}_check"] = {
                "CLIENTS_REACHED": total["CLIENTS_REACHED"]["value"],
                "SYRINGES_DISTRIBUTED": total["SYRINGES_DISTRIBUTED"]["value"],
                "OST_COVERAGE": total["OST_COVERAGE"]["value"],
                "NSP_SYRINGES_PER_PWID": total["NSP_SYRINGES_PER_PWID"]["value"],
                "ART_PWID": [total["ART_PWID"]["numerator"], total["ART_PWID"]["denominator"]],
                "HIV_POSITIVITY": [total["HIV_POSITIVITY"]["numerator"], total["HIV_POSITIVITY"]["denominator"]],
            }
    if "duckdb" in engines:
        # What a national dashboard draws: twelve months of the trend (engine.monthly_trend).
        from salus.indicators.engine import monthly_trend

        # Totals (a manager's dashboard), then every month's cells too (the printed report, and
        # dashboards whose numbers are suppressed).
        for name, disaggregate in (("trend_12_months_duckdb", False), ("trend_12_months_cells_duckdb", True)):
            runner = DuckDBRunner()
            t0, c0 = time.perf_counter(), time.process_time()
            trend = monthly_trend(None, f"{PERIOD}-01", f"{PERIOD}-12", runner=runner, disaggregate=disaggregate)
            out[name] = round(time.perf_counter() - t0, 3)
            out[f"{name}_cpu_here"] = round(time.process_time() - c0, 3)
            out[f"{name}_rows"] = len(trend)
            runner.close()
        # What leaves the system (exports, suppressed pages): the catalogue with small cells
        # hidden against the other periods of the year (salus.indicators.release: the year's
        # months of the counts that add up over time, then the year's pattern), uncached.
        from salus.indicators.release import suppressed_indicators

        for name, label in (("suppressed_year", PERIOD), ("suppressed_month", f"{PERIOD}-03")):
            t0, c0 = time.perf_counter(), time.process_time()
            cells = suppressed_indicators(label, as_of=dt.date(2026, 1, 1))
            out[name] = round(time.perf_counter() - t0, 3)
            out[f"{name}_cpu_here"] = round(time.process_time() - c0, 3)
            out[f"{name}_hidden"] = sum(1 for c in cells if c.get("suppressed"))
            out[f"{name}_rows"] = len(cells)
        # The same pages as the web app asks for them (``cached``: salus.core.kept): the month
        # the first time, asked again, then another page of the same year the first time.
        from django.core.cache import cache

        cache.clear()
        for name, label in (("kept_month_first", f"{PERIOD}-03"), ("kept_month_again", f"{PERIOD}-03"),
                            ("kept_quarter_first", f"{PERIOD}Q1")):
            t0, c0 = time.perf_counter(), time.process_time()
            cells = suppressed_indicators(label, as_of=dt.date(2026, 1, 1), cached=True)
            out[name] = round(time.perf_counter() - t0, 3)
            out[f"{name}_cpu_here"] = round(time.process_time() - c0, 3)
            out[f"{name}_hidden"] = sum(1 for c in cells if c.get("suppressed"))
        cache.clear()
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if "duckdb" in engines:
        with DuckDBRunner() as runner:
            out["duckdb_threads"] = runner.threads
    out["database"] = connection.vendor
    # Other work on the machine slows every figure; the load average says how busy it was.
    out["load_average_1min"] = round(os.getloadavg()[0], 2)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=5_000_000)
    parser.add_argument("--clients", type=int, default=300_000)
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--areas", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--keep", metavar="DIR", help="keep (and reuse) the generated data directory")
    parser.add_argument("--database-url", help="PostgreSQL URL (an empty database); default SQLite")
    parser.add_argument("--engines", default="duckdb", help="comma-separated: duckdb,native (default duckdb)")
    parser.add_argument("--repeat", type=int, default=1, help="time references and engine N times, alternating")
    parser.add_argument("--stages", action="store_true", help="also print wall and CPU seconds of each step")
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.generate_only:
        setup(args.keep, args.database_url)
        print(json.dumps(generate(args.contacts, args.clients, args.sites, args.areas, args.seed)))
        return 0

    if args.measure_only:
        setup(args.keep, args.database_url)
        print(json.dumps(measure(args.engines.split(","), args.repeat, args.stages)))
        return 0

    tag = f"c{args.contacts}-k{args.clients}-s{args.sites}-a{args.areas}-r{args.seed}"
    home = os.path.join(args.keep, tag) if args.keep else tempfile.mkdtemp(prefix="salus-bench-ind-")
    marker = os.path.join(home, "generated.json")
    if not os.path.exists(marker):
        os.makedirs(home, exist_ok=True)
        # Generate in a child process so that the measuring process starts with a clean heap.
        cmd = [sys.executable, os.path.abspath(__file__), "--generate-only", "--keep", home,
               "--contacts", str(args.contacts), "--clients", str(args.clients), "--sites", str(args.sites),
               "--areas", str(args.areas), "--seed", str(args.seed)]
        if args.database_url:
            cmd += ["--database-url", args.database_url]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode:
            print(res.stderr, file=sys.stderr)
            return res.returncode
        with open(marker, "w") as f:
            f.write(res.stdout.strip().splitlines()[-1])
    with open(marker) as f:
        generated = json.load(f)
    print("generated:", json.dumps(generated))
    cmd = [sys.executable, os.path.abspath(__file__), "--measure-only", "--keep", home, "--engines", args.engines,
           "--repeat", str(args.repeat)] + (["--stages"] if args.stages else [])
    if args.database_url:
        cmd += ["--database-url", args.database_url]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode:
        print(res.stderr, file=sys.stderr)
        return res.returncode
    figures = json.loads(res.stdout.strip().splitlines()[-1])
    print(f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; period {PERIOD}; contacts {args.contacts:,}")
    for k, v in figures.items():
        if isinstance(v, list) and v and isinstance(v[0], str):
            print(f"  {k}:")
            for line in v:
                print(f"    {line}")
        else:
            print(f"  {k}: {v}")
    runs = [f"_run{i + 1}" for i in range(args.repeat)] if args.repeat > 1 else [""]
    for suffix in runs:
        fastest_name, fastest = min(
            ((k, v) for k, v in figures.items()
             if k.startswith("reference_") and k.endswith(suffix) and "_result" not in k and "_cpu_" not in k),
            key=lambda kv: kv[1])
        for engine in args.engines.split(","):
            t = figures[f"engine_{engine}{suffix}"]
            cpu = figures[f"engine_{engine}_cpu_here{suffix}"]
            server = figures.get(f"engine_{engine}_cpu_server{suffix}")
            print(f"  full catalogue ({engine}{suffix}): {t:.2f} s = {t / fastest:.2f} x the fastest reference "
                  f"aggregate ({fastest_name.removesuffix(suffix)}: {fastest:.2f} s); "
                  f"{cpu:.2f} s CPU here" + (f" + {server:.2f} s server" if server is not None else "")
                  + f"; load average {figures.get(f'load_average_1min{suffix}', figures['load_average_1min'])}")
    for name, what in (("trend_12_months_duckdb", "totals"), ("trend_12_months_cells_duckdb", "with every cell")):
        if name in figures:
            print(f"  dashboard trend, 12 months, {what} (duckdb): {figures[name]:.2f} s; "
                  f"{figures[f'{name}_cpu_here']:.2f} s CPU here")
    for name, what in (("suppressed_year", f"the year {PERIOD}"), ("suppressed_month", f"the month {PERIOD}-03")):
        if name in figures:
            print(f"  suppressed for release, {what} (catalogue, year's months, pattern): {figures[name]:.2f} s; "
                  f"{figures[f'{name}_cpu_here']:.2f} s CPU here; {figures[f'{name}_hidden']} of "
                  f"{figures[f'{name}_rows']} cells hidden")
    for name, what in (("kept_month_first", f"the month {PERIOD}-03, the first time"),
                       ("kept_month_again", f"the month {PERIOD}-03 again"),
                       ("kept_quarter_first", f"then the quarter {PERIOD}Q1, the first time")):
        if name in figures:
            print(f"  suppressed page as the web app asks for it, {what}: {figures[name]:.2f} s; "
                  f"{figures[f'{name}_cpu_here']:.2f} s CPU here; {figures[f'{name}_hidden']} cells hidden")
    print(f"  peak memory of the measuring process: {figures['peak_rss_mb']} MB")
    if not args.keep and not args.database_url:
        import shutil

        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
