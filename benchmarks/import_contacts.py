"""Import speed of ``salus import contacts`` on SQLite.

Generates N synthetic contact rows (default 200,000) for a few thousand made-up clients at ten
sites, writes them as a CSV file in a fresh temporary SALUS_HOME, imports the file through the
same code as the command (check every row, hash each UIC, write everything in one transaction)
and prints rows per second and the peak resident memory. Then imports the same file again to
time the "nothing new" path. Nothing here is real data.

    .venv/bin/python benchmarks/import_contacts.py [N] [--clients K] [--repeat R] [--keep]

Wall-clock time depends on what else the machine runs; CPU time (this process's user + system
time) much less so, and the load average is printed with every figure. ``--repeat R`` imports the
file R times, each into a fresh copy of the empty database, and prints every run and the best
and median: on a busy machine, compare versions by their best CPU time, taken back to back.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time


def generate(path: str, n: int, clients: int, seed: int = 7) -> None:
    """Write ``n`` rows: a year of contacts by ``clients`` people at ten sites.

    Each person has a home site where 85 % of their contacts happen (as in real programs,
    where most clients use one site), the rest at any site. Dates are spread over the year.
    """
    rng = random.Random(seed)
    letters = "ABCDEFGHIJKLMNOPRSTUVYZ"
    sites = [f"S{i:02d}" for i in range(10)]
    people = []
    for _ in range(clients):
        year = rng.randint(1960, 2005)
        sex = rng.choice("MMMFFT")
        uic = "".join(rng.choice(letters) for _ in range(4)) + str(year) + sex
        people.append((uic, sex, str(year), rng.choice(("yes", "yes", "no")), rng.choice(sites)))
    today = dt.date.today()
    days = [(today - dt.timedelta(days=i)).isoformat() for i in range(1, 366)]
    results = ["", "", "", "", "", "", "", "", "negative", "positive"]
    refs = [""] * 40 + ["hiv_care", "ost", "social"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["date", "site", "uic", "sex", "birth_year", "injects", "syringes_given", "syringes_returned",
                    "condoms_given", "naloxone_kits_given", "education", "hiv_test_result", "hcv_test_result",
                    "referral_to"])
        for _ in range(n):
            uic, sex, year, injects, home = rng.choice(people)
            w.writerow([
                rng.choice(days), home if rng.random() < 0.85 else rng.choice(sites), uic, sex, year, injects, rng.choice((0, 5, 10, 20, 30)),
                rng.choice((0, 0, 5, 10)), rng.choice((0, 0, 3, 10)), rng.choice((0, 0, 0, 0, 1)),
                rng.choice(("yes", "no")), rng.choice(results), rng.choice(results), rng.choice(refs),
            ])


def load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=200_000, help="rows to import (default 200000)")
    parser.add_argument("--clients", type=int, default=20_000, help="distinct clients (default 20000)")
    parser.add_argument("--repeat", type=int, default=1, help="first imports to time, each into a fresh database")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="salus-bench-")
    os.environ["SALUS_HOME"] = home
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "salus.settings"
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from salus.core.actions import do_ensure_area_path, do_save_site
    from salus.core.keys import ensure_keys
    from salus.services.models import Contact
    from salus.transfer.importing import run_import

    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs; {load()}")
    ensure_keys()
    call_command("migrate", interactive=False, verbosity=0)
    area = do_ensure_area_path("bench", "BENCH/ONE")
    for i in range(10):
        do_save_site("bench", code=f"S{i:02d}", name=f"Benchmark site {i}", area=area, kind="fixed_nsp")
    db_path = connection.settings_dict["NAME"]
    empty = os.path.join(home, "empty.sqlite3")
    with connection.cursor() as cur:
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    shutil.copyfile(db_path, empty)

    path = os.path.join(home, "contacts.csv")
    t0 = time.perf_counter()
    generate(path, args.n, args.clients)
    print(f"generated {args.n:,} rows for {args.clients:,} clients in {time.perf_counter() - t0:.1f} s "
          f"({os.path.getsize(path) / 1e6:.1f} MB)")
    with open(path, "rb") as f:
        data = f.read()

    runs = []
    for run in range(args.repeat):
        if run:
            connection.close()
            for suffix in ("-wal", "-shm"):
                if os.path.exists(db_path + suffix):
                    os.remove(db_path + suffix)
            shutil.copyfile(empty, db_path)
        t0, c0 = time.perf_counter(), time.process_time()
        result = run_import("contacts", data, "bench", progress=False)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        if not result.ok:
            print("import refused:", *result.problems[:10], sep="\n  ")
            return 1
        assert Contact.objects.count() == result.counts["contacts_created"]
        runs.append((elapsed, cpu))
        if run == 0:
            print(f"first import: {result.counts}")
        # Wall time depends on what else the machine runs; CPU time is this process's own work.
        print(f"  wall {elapsed:.2f} s: {args.n / elapsed:,.0f} rows/second; "
              f"CPU {cpu:.2f} s: {args.n / cpu:,.0f} rows/second of CPU time; {load()}")
    if args.repeat > 1:
        for name, values in (("wall", [w for w, _c in runs]), ("CPU", [c for _w, c in runs])):
            best, median = min(values), statistics.median(values)
            print(f"  {name} best {best:.2f} s ({args.n / best:,.0f} rows/second), "
                  f"median {median:.2f} s ({args.n / median:,.0f} rows/second)")

    t0, c0 = time.perf_counter(), time.process_time()
    again = run_import("contacts", data, "bench", progress=False)
    elapsed2, cpu2 = time.perf_counter() - t0, time.process_time() - c0
    print(f"same file again: {again.counts['contacts_created']} created, {again.counts['contacts_skipped']:,} "
          f"skipped; wall {elapsed2:.2f} s ({args.n / elapsed2:,.0f} rows/second), CPU {cpu2:.2f} s "
          f"({args.n / cpu2:,.0f} rows/second); {load()}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak_mb:,.0f} MB; database {os.path.getsize(db_path) / 1e6:,.0f} MB")
    if args.keep:
        print(f"data directory kept: {home}")
    else:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
