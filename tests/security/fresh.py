"""Run Salus in a fresh data directory in a child process, with production settings.

The test database is in memory; tests that must look at the real files on disk (encryption at
rest, backups) use these helpers instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def clean_env(home: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SALUS_", "DJANGO_", "DATABASE_URL"))}
    env.update(SALUS_HOME=str(home), DJANGO_SETTINGS_MODULE="salus.settings", **extra)
    return env


def salus(home: Path, *args: str, stdin: str = "", check: bool = True, **extra: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "salus", *args], input=stdin, env=clean_env(home, **extra),
        capture_output=True, text=True, timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"salus {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


INIT = """
from django.core.management import call_command
from salus.core.keys import ensure_keys
ensure_keys()
call_command("migrate", interactive=False, verbosity=0)
"""


def python(home: Path, code: str, *, init: bool = False, **extra: str) -> str:
    """Run ``code`` with Django set up on ``home`` (after what ``salus init`` does, if ``init``);
    returns its stdout."""
    script = "import django\ndjango.setup()\n" + (INIT if init else "") + textwrap.dedent(code)
    result = subprocess.run(
        [sys.executable, "-c", script], env=clean_env(home, **extra), capture_output=True, text=True, timeout=300,
    )
    if result.returncode != 0:
        raise AssertionError(f"child failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


# Makes a small program with sensitive values whose plaintext the tests then look for.
SEED = """
import datetime as dt
from django.utils import timezone
from salus.clients import uic
from salus.clients.actions import ClientAttributes
from salus.core.actions import do_create_user, do_ensure_area_path, do_save_site
from salus.services.actions import ContactServices, do_record_contact_for_uic, do_record_overdose

area = do_ensure_area_path("seed", "XL/NORTH")
site, _ = do_save_site("seed", code="NA1", name="North", area=area, kind="drop_in")
do_create_user("seed", username="worker", role="worker", sites=[site], password="correct horse battery")
contact, _ = do_record_contact_for_uic(
    "seed", site=site, hashes=uic.hash_raw("{uic}"), attrs=ClientAttributes(injects=True),
    occurred_at=timezone.now() - dt.timedelta(hours=1),
    services=ContactServices(syringes_given=5, hiv_test_result="positive", hcv_test_result="positive",
                             art_status="not_on_art", notes="{note}"),
)
do_record_overdose("seed", client=contact.client, site=site, date=dt.date.today(), involvement="experienced",
                   naloxone_given=True, naloxone_kits_used=2, outcome="survived", emergency_called=False,
                   details="{detail}")
print(contact.pk)
"""
