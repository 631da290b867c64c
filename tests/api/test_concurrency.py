"""The same contact id posted twice at the same moment records one contact.

Two ways to get real concurrency:

- ``test_it_records_one_contact_under_gunicorn``: the production shape, always run: a gunicorn
  server (two worker processes, two threads each) on an on-disk SQLite database in WAL mode,
  with requests sent from two threads released together by a barrier.
- ``test_it_records_one_contact_on_the_live_server``: pytest-django's ``live_server`` with
  ``transactional_db``. With the default in-memory SQLite test database, Django hands every
  server thread the *same* connection, so two requests cannot run truly side by side and the
  test would prove nothing: it runs when the test database is a real server (PostgreSQL via
  DATABASE_URL) or an on-disk file.
"""

from __future__ import annotations

import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

ROUNDS = 6
VENV_BIN = Path(sys.executable).parent


def _post(url: str, token: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _together(url: str, token: str, bodies: list[dict]) -> list[tuple[int, dict]]:
    """POST each body from its own thread, all released at the same instant."""
    barrier = threading.Barrier(len(bodies))
    results: list = [None] * len(bodies)

    def run(i):
        barrier.wait()
        results[i] = _post(url, token, bodies[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    return results


def _body(contact_id: str, syringes: int = 10, uic: str = "MAJO1985M") -> dict:
    return {"id": contact_id, "date": "2025-03-01", "site": "NA1", "uic": uic, "syringes_given": syringes}


def _check_rounds(url: str, token: str) -> list[str]:
    """Post ROUNDS pairs of identical contacts and one pair that reuses an id; return the ids."""
    ids = []
    for i in range(ROUNDS):
        cid = str(uuid.uuid4())
        ids.append(cid)
        # A new client in some rounds, so that registration races as well as the contact.
        uic = "MAJO1985M" if i % 2 else f"N{chr(65 + i)}XY1990F"
        results = _together(url, token, [_body(cid, uic=uic), _body(cid, uic=uic)])
        statuses = sorted(status for status, _ in results)
        assert statuses == [200, 201], results
        assert {body["id"] for _, body in results} == {cid}
    cid = str(uuid.uuid4())
    ids.append(cid)
    results = _together(url, token, [_body(cid, 10), _body(cid, 11)])
    assert sorted(status for status, _ in results) == [201, 409], results
    return ids


def _free_port() -> int:
    """A free port in 8100-8999 (8000 is kept for the demo server)."""
    for _ in range(200):
        port = random.randrange(8100, 9000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8100-8999")


SETUP = """
import datetime as dt
from salus.core.actions import do_create_api_token, do_create_user, do_ensure_area_path, do_save_site
from salus.stock.actions import do_record_stock_movement
from salus.stock.models import Commodity
area = do_ensure_area_path("test", "XL/NORTH/N1")
site, _ = do_save_site("test", code="NA1", name="North", area=area, kind="drop_in")
user = do_create_user("test", username="worker_a", role="worker", sites=[site], password="correct horse battery")
do_record_stock_movement("test", site=site, commodity=Commodity.objects.get(code="syringe"), kind="receipt",
                         quantity=1000, occurred_on=dt.date(2024, 1, 1))
print(do_create_api_token("test", user, "race")[1])
"""


@pytest.fixture
def gunicorn_server(tmp_path):
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SALUS_TESTING", "SALUS_PROGRAM_CONFIG")}
    env.update(SALUS_HOME=str(home), DJANGO_SETTINGS_MODULE="salus.settings", SALUS_ALLOWED_HOSTS="127.0.0.1")
    subprocess.run([str(VENV_BIN / "salus"), "init"], env=env, check=True, capture_output=True, timeout=180)
    setup = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + SETUP],
        env=env, check=True, capture_output=True, text=True, timeout=120,
    )
    token = setup.stdout.strip().splitlines()[-1]
    port = _free_port()
    server = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "salus.wsgi:application", "--workers", "2", "--threads", "2",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not start: " + server.stderr.read().decode()[-2000:]) from None
                time.sleep(0.2)
        yield base, token, home / "salus.sqlite3"
    finally:
        server.terminate()
        server.wait(20)


def test_it_records_one_contact_under_gunicorn(gunicorn_server):
    base, token, db_path = gunicorn_server
    ids = _check_rounds(base + "/api/v1/contacts", token)
    with sqlite3.connect(db_path) as db:
        for cid in ids:
            # Django stores UUIDs in SQLite as 32 hex digits.
            (n,) = db.execute("select count(*) from services_contact where id = ?", (uuid.UUID(cid).hex,)).fetchone()
            assert n == 1
        contacts, given = db.execute("select count(*), sum(syringes_given) from services_contact").fetchone()
        (level,) = db.execute("select quantity from stock_stocklevel where commodity_id = 'syringe'").fetchone()
        (distributions,) = db.execute(
            "select count(*) from stock_stockmovement where kind = 'distribution'").fetchone()
    assert contacts == ROUNDS + 1
    # Each contact gave 10 syringes once, whatever the number of requests.
    assert distributions == ROUNDS + 1
    assert level == 1000 - given
    # The id-reuse pair recorded 10 or 11 syringes, whichever request won.
    assert given in (10 * ROUNDS + 10, 10 * ROUNDS + 11)


def _in_memory_sqlite() -> bool:
    from django.db import connection

    return connection.vendor == "sqlite" and connection.is_in_memory_db()


@pytest.mark.django_db(transaction=True)
def test_it_records_one_contact_on_the_live_server(request, program, commodities, tokens):
    if _in_memory_sqlite():
        pytest.skip("the in-memory SQLite test database shares one connection between server threads")
    live_server = request.getfixturevalue("live_server")
    from salus.services.models import Contact
    from salus.stock.models import StockLevel

    ids = _check_rounds(live_server.url + "/api/v1/contacts", tokens["worker_a"])
    assert Contact.objects.count() == len(ids)
    given = sum(Contact.objects.values_list("syringes_given", flat=True))
    assert StockLevel.objects.get(site=program.site_a, commodity_id="syringe").quantity == 1000 - given
