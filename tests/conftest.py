"""Shared fixtures: a small program with two sites in two areas, and one person per role.

Personas (healthchecks style): ``worker_a`` works at site A; ``worker_b`` at site B (the
outsider for site A's records); ``coordinator_a`` and ``clinician_a`` at site A; ``manager``,
``analyst`` and ``admin`` reach the whole organisation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils import timezone

from salus.core import keys
from salus.core.config import reset_cache as reset_config


@pytest.fixture(autouse=True)
def _keys(settings, tmp_path_factory):
    """Every test gets program keys in its data directory and a fresh config cache."""
    from django.utils import translation

    keys.ensure_keys()
    reset_config()
    # A request in another language leaves that language active in the thread; start each test
    # in English so one test's Farsi page cannot change the next test's messages.
    translation.activate("en")
    yield
    reset_config()
    translation.activate("en")


@pytest.fixture
def own_keys(tmp_path, monkeypatch):
    """Key files of this test only, so adding, rotating or wrapping keys touches no other test."""
    from salus.core import keyvault

    monkeypatch.setenv("SALUS_FIELD_KEYS_FILE", str(tmp_path / "field-keys.json"))
    monkeypatch.setenv("SALUS_UIC_KEY_FILE", str(tmp_path / "uic.key"))
    keys.ensure_keys()
    yield tmp_path
    keyvault.set_passphrase(None)
    keys.reset_cache()


@dataclass
class Program:
    area_a: object
    area_b: object
    site_a: object
    site_b: object
    worker_a: object
    worker_b: object
    coordinator_a: object
    clinician_a: object
    manager: object
    analyst: object
    admin: object

    def users(self) -> dict:
        return {
            "worker_a": self.worker_a, "worker_b": self.worker_b, "coordinator_a": self.coordinator_a,
            "clinician_a": self.clinician_a, "manager": self.manager, "analyst": self.analyst,
            "admin": self.admin,
        }


PASSWORD = "correct horse battery"


@pytest.fixture
def program(db) -> Program:
    from salus.core.actions import do_create_user, do_ensure_area_path, do_save_site

    area_a = do_ensure_area_path("test", "XL/NORTH/N1")
    area_b = do_ensure_area_path("test", "XL/SOUTH/S1")
    site_a, _ = do_save_site("test", code="NA1", name="North drop-in", area=area_a, kind="drop_in")
    site_b, _ = do_save_site("test", code="SB1", name="South outreach", area=area_b, kind="outreach")

    def user(name, role, sites):
        return do_create_user("test", username=name, role=role, sites=sites, password=PASSWORD)

    return Program(
        area_a=area_a, area_b=area_b, site_a=site_a, site_b=site_b,
        worker_a=user("worker_a", "worker", [site_a]),
        worker_b=user("worker_b", "worker", [site_b]),
        coordinator_a=user("coordinator_a", "coordinator", [site_a]),
        clinician_a=user("clinician_a", "clinician", [site_a]),
        manager=user("manager", "manager", []),
        analyst=user("analyst", "analyst", []),
        admin=_with_second_factor(user("admin", "admin", [])),
    )


def _with_second_factor(admin):
    """Administrators must have TOTP set up (salus.core.auth); without it every page redirects."""
    from salus.core.auth import do_enable_totp, new_totp_secret

    do_enable_totp("test", admin, new_totp_secret())
    return admin


@pytest.fixture
def record_contact():
    """Record a contact for a raw UIC at a site; returns the Contact."""
    from salus.clients import uic
    from salus.clients.actions import ClientAttributes
    from salus.services.actions import ContactServices, do_record_contact_for_uic

    def _record(site, raw_uic="MAJO1985M", when=None, actor="test", injects=True, **services):
        when = when or timezone.now()
        if isinstance(when, dt.date) and not isinstance(when, dt.datetime):
            when = timezone.make_aware(dt.datetime.combine(when, dt.time(12, 0)), dt.UTC)
        contact, _ = do_record_contact_for_uic(
            actor, site=site, hashes=uic.hash_raw(raw_uic), attrs=ClientAttributes(injects=injects),
            occurred_at=when, services=ContactServices(**services), source="api",
        )
        return contact

    return _record


EXAMPLE_MAPPING = Path(__file__).parents[1] / "src/salus/indicators/exports/dhis2-mapping.example.toml"


@pytest.fixture
def with_mapping(tmp_path, monkeypatch):
    """The program's configuration names a DHIS2 mapping: a copy of the example shipped with
    Salus (it has XL, XL/NORTH, XL/SOUTH, NA1 and SB1, not the districts XL/*/N1 and S1)."""
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(EXAMPLE_MAPPING.read_text(encoding="utf-8"), encoding="utf-8")
    config = tmp_path / "program.toml"
    config.write_text(f'dhis2_mapping = "{mapping}"\n', encoding="utf-8")
    monkeypatch.setenv("SALUS_PROGRAM_CONFIG", str(config))
    reset_config()
    yield mapping
    reset_config()
