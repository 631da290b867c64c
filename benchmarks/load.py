"""Load, crash and retry test of a real Salus server (``salus serve`` = gunicorn).

What it does, in a fresh data directory (and, with --database-url, an empty PostgreSQL
database):

1. ``salus init``; one site, one worker, an API token, a stock receipt of syringes and condoms.
2. Starts ``salus serve`` on a free 127.0.0.1 port.
3. ``--clients`` threads POST contacts to /api/v1/contacts for ``--seconds`` seconds, each with
   its own UUID, and record every acknowledged id (HTTP 201) and the latency.
4. Retries: the same contact UUID posted by several threads at once must record one contact.
5. With ``--crash``: kills the whole server (SIGKILL to every process) half-way through the
   load, checks the database (PRAGMA integrity_check on SQLite) and that every contact
   acknowledged before the kill is there, restarts the server and loads it again.
6. Stops the server and checks: no error responses, every acknowledged contact present, stock
   levels exactly receipts minus what the contacts gave, the audit chain intact.

Prints throughput and p50/p99 latency; exits 1 if any check fails.

    python benchmarks/load.py --seconds 60
    python benchmarks/load.py --seconds 60 --crash
    python benchmarks/load.py --database-url postgres://salus@127.0.0.1:5499/salus_bench
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

RECEIPT = 1_000_000
SITE = "LD1"
UICS = [f"{a}{b}{year}{sex}" for a in ("MA", "FA", "ZA", "LE", "NO") for b in ("JO", "AL", "RE", "KI") for year in range(1960, 2004) for sex in "FM"]


def free_port() -> int:
    for _ in range(50):
        port = random.randint(8100, 8999)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 8100 and 8999")


def child_env(home: Path, database_url: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SALUS_", "DJANGO_", "DATABASE_URL"))}
    env.update(SALUS_HOME=str(home), DJANGO_SETTINGS_MODULE="salus.settings", SALUS_SESSION_IDLE_MINUTES="15")
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def run_python(env: dict, code: str) -> str:
    script = "import django\ndjango.setup()\n" + textwrap.dedent(code)
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"child failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


SETUP = f"""
import datetime as dt
from django.core.management import call_command
from salus.core.keys import ensure_keys
ensure_keys()
call_command("migrate", interactive=False, verbosity=0)
from salus.core.actions import do_create_api_token, do_create_user, do_ensure_area_path, do_save_site
from salus.stock.actions import do_record_stock_movement
from salus.stock.models import Commodity
area = do_ensure_area_path("bench", "BENCH/AREA")
site, _ = do_save_site("bench", code="{SITE}", name="Load test site", area=area, kind="drop_in")
user = do_create_user("bench", username="loadworker", role="worker", sites=[site], password="load test password 1")
for code in ("syringe", "condom"):
    do_record_stock_movement("bench", site=site, commodity=Commodity.objects.get(code=code), kind="receipt",
                             quantity={RECEIPT}, occurred_on=dt.date(2020, 1, 1))
_row, token = do_create_api_token("bench", user, "load")
print(token)
"""

CHECK = f"""
import json, sys
from django.db import connection
from django.db.models import Sum
from salus.core import audit
from salus.services.models import Contact
from salus.stock.models import StockLevel, StockMovement
acked = set(json.load(open(sys.argv[1])))
present = set(str(i) for i in Contact.objects.filter(pk__in=list(acked)).values_list("pk", flat=True)) if acked else set()
integrity = "n/a"
if connection.vendor == "sqlite":
    with connection.cursor() as cur:
        cur.execute("PRAGMA integrity_check")
        integrity = cur.fetchone()[0]
stock = {{}}
for code, field in (("syringe", "syringes_given"), ("condom", "condoms_given")):
    level = StockLevel.objects.get(site__code="{SITE}", commodity_id=code).quantity
    moves = StockMovement.objects.filter(site__code="{SITE}", commodity_id=code).aggregate(s=Sum("quantity"))["s"]
    given = Contact.objects.filter(site__code="{SITE}").aggregate(s=Sum(field))["s"] or 0
    stock[code] = {{"level": level, "movements": moves, "expected": {RECEIPT} - given}}
v = audit.verify()
print(json.dumps({{"acked": len(acked), "present": len(present), "missing": sorted(acked - present)[:5],
                  "contacts": Contact.objects.count(), "integrity": integrity, "stock": stock,
                  "audit_ok": v.ok, "audit_events": v.checked, "audit_reason": v.reason}}))
"""


def process_cpu_seconds(keep, reaped_by: int | None = None) -> float:
    """CPU seconds (user + system) of the live processes for which ``keep(pid, parent pid,
    process group)`` is true, from /proc; with ``reaped_by``, plus those of that process's
    children that have ended (a database server's closed connections)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        pid = int(text.split(None, 1)[0])
        fields = text.rsplit(")", 1)[1].split()
        # After the command name: state, ppid, pgrp, ..., utime (12th), stime (13th), and the
        # ended children's cutime (14th) and cstime (15th).
        if keep(pid, int(fields[1]), int(fields[2])):
            total += int(fields[11]) + int(fields[12])
            if pid == reaped_by:
                total += int(fields[13]) + int(fields[14])
    return total / os.sysconf("SC_CLK_TCK")


def local_postmaster(database_url: str) -> int | None:
    """The process id of the PostgreSQL server behind ``database_url`` if it runs on this
    machine (the parent of the backend serving a connection), else None."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        # Read while connected: the backend process ends with the connection.
        try:
            return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            return None


def database_cpu_seconds(postmaster: int) -> float:
    """CPU seconds of a local PostgreSQL server's processes (while it serves only this
    benchmark: the database's share of each contact)."""
    return process_cpu_seconds(lambda pid, ppid, pgrp: postmaster in (pid, ppid), reaped_by=postmaster)


class Server:
    """``salus serve`` in its own process group, so a crash can kill master and workers at once."""

    def __init__(self, env: dict, port: int, workers: int, threads: int, log: Path):
        self.env, self.port, self.workers, self.threads, self.log = env, port, workers, threads, log
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> None:
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "salus", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(self.workers), "--threads", str(self.threads)],
            env=self.env, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server stopped at start-up; see {self.log}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/security/login/")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        # Do not leave a half-started server behind.
        self.kill()
        raise RuntimeError(f"the server did not answer in time; see {self.log}")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by every live process of the server, from
        /proc: a figure that does not depend on what else the machine is doing."""
        if self.proc is None:
            return 0.0
        return process_cpu_seconds(lambda pid, ppid, pgrp: pgrp == self.proc.pid)


    def kill(self) -> None:
        """SIGKILL to every process of the server: nothing gets to clean up."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # already gone
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Requests cut off by a deliberate crash: neither acknowledged nor errors.
    cut_off: int = 0
    # Each client's mean latency: far apart when some clients are served worse than others.
    client_means: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def contact_body(rng: random.Random, contact_id: str | None = None) -> dict:
    return {
        "id": contact_id or str(uuid.uuid4()), "date": time.strftime("%Y-%m-%d", time.gmtime()), "time": "10:00",
        "site": SITE, "uic": rng.choice(UICS), "syringes_given": rng.randint(0, 30),
        "syringes_returned": rng.randint(0, 20), "condoms_given": rng.randint(0, 10), "education": rng.random() < 0.5,
        "notes": "load test contact",
    }


class Connection:
    """A small HTTP/1.1 client for one thread: one request at a time, the connection reopened
    whenever the server closes it (``salus serve`` answers one request per connection).

    It sends what ``http.client`` sends and reads the whole answer, but with a fraction of its
    CPU (``http.client`` parses every header through the ``email`` package): the load generator
    shares the CPUs with the server it measures.
    """

    def __init__(self, port: int, timeout: float = 60):
        self.port, self.timeout = port, timeout
        self.sock: socket.socket | None = None

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def post(self, path: str, token: str, body: bytes) -> tuple[int, bytes]:
        """POST ``body`` (JSON); return the status and the body of the answer. Raises OSError
        (or http.client.HTTPException on a malformed answer) like ``http.client``."""
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock.sendall(
                b"POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                % (path.encode(), self.port, token.encode(), len(body), body)
            )
            status, headers, content = self._read_answer()
        except BaseException:
            self.close()
            raise
        if headers.get(b"connection", b"").lower() == b"close":
            self.close()
        return status, content

    def _read_answer(self) -> tuple[int, dict[bytes, bytes], bytes]:
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise http.client.RemoteDisconnected("the server closed the connection without answering")
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        try:
            status = int(lines[0].split(None, 2)[1])
            headers = {k.strip().lower(): v.strip() for k, v in (line.split(b":", 1) for line in lines[1:])}
        except (IndexError, ValueError):
            raise http.client.BadStatusLine(lines[0][:100].decode(errors="replace")) from None
        if b"content-length" not in headers:
            # Django's answers carry a length; anything else would be a surprise worth reporting.
            raise http.client.HTTPException(f"HTTP {status} answer without Content-Length")
        length = int(headers[b"content-length"])
        while len(rest) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise http.client.IncompleteRead(rest, length - len(rest))
            rest += chunk
        return status, headers, rest[:length]


def post(conn: Connection, token: str, body: dict) -> tuple[int, bytes]:
    return conn.post("/api/v1/contacts", token, json.dumps(body).encode())


def load(port: int, token: str, clients: int, seconds: float, results: Results, stop: threading.Event,
         seed: int = 1) -> float:
    """Run ``clients`` threads posting contacts until ``seconds`` pass or ``stop`` is set.
    Returns the elapsed time."""

    def worker(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        conn = Connection(port)
        mine: list[float] = []
        end = time.monotonic() + seconds
        while time.monotonic() < end and not stop.is_set():
            body = contact_body(rng)
            t0 = time.perf_counter()
            try:
                status, content = post(conn, token, body)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                with results.lock:
                    if stop.is_set():
                        results.cut_off += 1
                    else:
                        results.errors.append(f"{type(exc).__name__}: {exc}")
                if stop.is_set():
                    return
                continue
            elapsed = time.perf_counter() - t0
            with results.lock:
                if status == 201:
                    results.acked.append(body["id"])
                    results.latencies.append(elapsed)
                    mine.append(elapsed)
                else:
                    results.errors.append(f"HTTP {status}: {content[:200]!r}")
        conn.close()
        if mine:
            with results.lock:
                results.client_means.append(sum(mine) / len(mine))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - t0


def retries(port: int, token: str, ids: int = 10, copies: int = 4) -> dict:
    """Post each of ``ids`` contacts ``copies`` times at once; count the answers."""
    rng = random.Random(7)
    statuses: list[int] = []
    acked: list[str] = []
    for _ in range(ids):
        body = contact_body(rng)
        barrier = threading.Barrier(copies)
        lock = threading.Lock()

        def send(body=body, barrier=barrier, lock=lock):
            conn = Connection(port)
            barrier.wait()
            status, _content = post(conn, token, body)
            conn.close()
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=send) for _ in range(copies)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        acked.append(body["id"])
    return {"ids": acked, "statuses": statuses}


def warm_up(port: int, token: str, workers: int, threads: int, results: Results) -> None:
    """A few unmeasured requests so every worker has imported everything before timing starts.
    Their contacts count as acknowledged (they are checked afterwards like the rest)."""
    warm = Results()
    load(port, token, workers * threads, 1.5, warm, threading.Event(), seed=99)
    results.acked.extend(warm.acked)
    results.errors.extend(warm.errors)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def check(env: dict, acked: list[str], workdir: Path) -> dict:
    path = workdir / "acked.json"
    path.write_text(json.dumps(acked))
    script = "import sys\nsys.argv = ['check', %r]\n" % str(path) + CHECK  # noqa: UP031
    return json.loads(run_python(env, script).strip().splitlines()[-1])


def count_ids(env: dict, ids: list[str], workdir: Path) -> int:
    path = workdir / "ids.json"
    path.write_text(json.dumps(ids))
    out = run_python(env, f"""
import json
from salus.services.models import Contact
print(Contact.objects.filter(pk__in=json.load(open({str(path)!r}))).count())
""")
    return int(out.strip().splitlines()[-1])


def run(seconds: float = 60, clients: int = 16, database_url: str | None = None, crash: bool = False,
        workers: int = 3, threads: int = 4, home: Path | None = None, quiet: bool = False) -> dict:
    """Run the whole scenario; return the figures and a list of failed checks (empty = pass)."""
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    home = home or Path(tempfile.mkdtemp(prefix="salus-load-"))
    env = child_env(home, database_url)
    token = run_python(env, SETUP).strip().splitlines()[-1]
    port = free_port()
    server = Server(env, port, workers, threads, home / "server.log")
    failures: list[str] = []
    report: dict = {"database": "postgresql" if database_url else "sqlite", "clients": clients,
                    "workers": workers, "threads": threads, "home": str(home), "cpus": os.cpu_count(),
                    "load_average_at_start": round(os.getloadavg()[0], 1)}
    t_start = time.monotonic()
    server.start()
    report["start_seconds"] = round(time.monotonic() - t_start, 2)
    say(f"server up on port {port} in {report['start_seconds']} s ({report['database']})")
    results = Results()
    retry = {"ids": [], "statuses": []}
    try:
        warm_up(port, token, workers, threads, results)
        warmed = len(results.acked)
        stop = threading.Event()
        if crash:
            killer = threading.Timer(seconds / 2, lambda: (stop.set(), server.kill()))
            killer.start()
            elapsed = load(port, token, clients, seconds, results, stop)
            killer.join()
            before_kill = list(results.acked)
            after = check(env, before_kill, home)
            report["crash"] = {"acked_before_kill": len(before_kill), "present_after": after["present"],
                               "integrity": after["integrity"], "cut_off_requests": results.cut_off,
                               "audit_ok": after["audit_ok"]}
            say(f"killed the server after {len(before_kill)} acknowledged contacts; "
                f"{after['present']} present after the crash; integrity {after['integrity']}")
            if after["present"] != len(before_kill):
                failures.append(f"crash: {len(before_kill) - after['present']} acknowledged contacts lost: {after['missing']}")
            if after["integrity"] not in ("ok", "n/a"):
                failures.append(f"crash: integrity check says {after['integrity']}")
            if not after["audit_ok"]:
                failures.append(f"crash: audit chain broken: {after['audit_reason']}")
            server.start()
            say("server restarted")
            stop.clear()
            warm_up(port, token, workers, threads, results)
            report["crash"]["restarted_and_warmed"] = True
            elapsed += load(port, token, clients, seconds / 2, results, stop, seed=2)
        else:
            postmaster = local_postmaster(database_url) if database_url else None
            db0 = database_cpu_seconds(postmaster) if postmaster else 0.0
            cpu0, own0 = server.cpu_seconds(), time.process_time()
            elapsed = load(port, token, clients, seconds, results, stop)
            measured = len(results.acked) - warmed
            if measured:
                report["server_cpu_ms_per_contact"] = round((server.cpu_seconds() - cpu0) * 1000 / measured, 1)
                if postmaster:
                    db_cpu = database_cpu_seconds(postmaster) - db0
                    report["database_cpu_ms_per_contact"] = round(db_cpu * 1000 / measured, 1)
                # The load generator runs on the same CPUs: what it takes is not the server's.
                report["client_cpu_ms_per_contact"] = round((time.process_time() - own0) * 1000 / measured, 1)
        report.update(
            warm_up_contacts=warmed,
            acknowledged=len(results.acked), errors=len(results.errors), seconds=round(elapsed, 1),
            throughput_per_s=round(len(results.acked) / elapsed, 1) if elapsed else 0,
            p50_ms=round(percentile(results.latencies, 50) * 1000, 1),
            p99_ms=round(percentile(results.latencies, 99) * 1000, 1),
            max_ms=round(max(results.latencies, default=0) * 1000, 1),
            client_mean_ms=[round(min(results.client_means, default=0) * 1000, 1),
                            round(max(results.client_means, default=0) * 1000, 1)],
        )
        report["load_average_at_end"] = round(os.getloadavg()[0], 1)
        if results.errors:
            failures.append(f"{len(results.errors)} error responses, e.g. {results.errors[:3]}")
        say(f"{report['acknowledged']} contacts in {report['seconds']} s: {report['throughput_per_s']}/s, "
            f"p50 {report['p50_ms']} ms, p99 {report['p99_ms']} ms, errors {report['errors']}, "
            f"clients' mean latency {report['client_mean_ms'][0]} to {report['client_mean_ms'][1]} ms"
            + (f", server CPU {report['server_cpu_ms_per_contact']} ms per contact (load generator "
               f"{report['client_cpu_ms_per_contact']} ms"
               + (f", PostgreSQL processes {report['database_cpu_ms_per_contact']} ms"
                  if "database_cpu_ms_per_contact" in report else "")
               + ")" if "server_cpu_ms_per_contact" in report else "")
            + f" (machine load average {report['load_average_at_end']} on {report['cpus']} CPUs)")
        retry = retries(port, token)
        bad = [s for s in retry["statuses"] if s not in (200, 201)]
        created = retry["statuses"].count(201)
        report["retries"] = {"ids": len(retry["ids"]), "posts": len(retry["statuses"]), "created": created,
                             "other_statuses": sorted(set(bad))}
        if bad:
            failures.append(f"retries: unexpected statuses {sorted(set(bad))}")
        if created != len(retry["ids"]):
            failures.append(f"retries: {created} posts answered 'created' for {len(retry['ids'])} ids")
    finally:
        server.stop()
    final = check(env, results.acked + retry["ids"], home)
    n_retry = count_ids(env, retry["ids"], home)
    report["final"] = final
    if n_retry != len(retry["ids"]):
        failures.append(f"retries: {n_retry} contacts stored for {len(retry['ids'])} ids")
    if final["present"] != final["acked"]:
        failures.append(f"{final['acked'] - final['present']} acknowledged contacts missing, e.g. {final['missing']}")
    for code, s in final["stock"].items():
        if not (s["level"] == s["movements"] == s["expected"]):
            failures.append(f"stock {code}: level {s['level']}, movements {s['movements']}, expected {s['expected']}")
    if final["integrity"] not in ("ok", "n/a"):
        failures.append(f"integrity check says {final['integrity']}")
    if not final["audit_ok"]:
        failures.append(f"audit chain broken: {final['audit_reason']}")
    report["failures"] = failures
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--database-url", default=None, help="An empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--crash", action="store_true", help="Kill -9 the server half-way and restart it")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON")
    args = parser.parse_args(argv)
    report = run(args.seconds, args.clients, args.database_url, args.crash, args.workers, args.threads)
    if args.json:
        print(json.dumps(report, indent=2))
    print("PASS" if not report["failures"] else "FAIL:\n  " + "\n  ".join(report["failures"]))
    p99 = report.get("p99_ms")
    if p99 is not None:
        print(f"p99 {p99} ms: {'within' if p99 < 200 else 'ABOVE'} the 200 ms target")
    return 0 if not report["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
