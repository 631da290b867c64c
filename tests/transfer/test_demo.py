"""The synthetic demo program (a small one: the full one is exercised by ``salus demo``)."""

from __future__ import annotations

import os
import stat
import sys
import types

import pytest

from salus.clients.models import Client
from salus.core import keys
from salus.core.config import program_config, reset_cache
from salus.core.models import AuditEvent, PopulationSizeEstimate, Site, User
from salus.services.models import Contact, OSTDose, OSTEpisode, OverdoseEvent, Referral
from salus.stock.models import StockLevel
from salus.transfer import demo


@pytest.fixture
def demo_home(settings, tmp_path, monkeypatch):
    settings.SALUS_HOME = tmp_path
    monkeypatch.setenv("SALUS_PROGRAM_CONFIG", str(tmp_path / "program.toml"))
    keys.ensure_keys()
    reset_cache()
    yield tmp_path
    reset_cache()


def test_it_loads_a_small_synthetic_program(db, demo_home):
    logins = demo.load_demo(clients=40, days=60)
    assert [r for r, _u, _p in logins] == ["worker", "coordinator", "clinician", "manager", "analyst", "admin"]
    for role, username, password in logins:
        user = User.objects.get(username=username)
        assert user.role == role and user.check_password(password)
    path = demo_home / "demo-logins.txt"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert all(password in path.read_text() for _r, _u, password in logins)
    cfg = program_config()
    assert cfg.synthetic is True and cfg.program_name == demo.PROGRAM_NAME
    assert set(Site.objects.values_list("kind", flat=True)) == set(Site.Kind.values)
    assert Client.objects.count() > 20
    assert Contact.objects.filter(source="demo").count() == Contact.objects.count() > 100
    assert Contact.objects.filter(hiv_tested=True).exists()
    assert OSTEpisode.objects.exists() and OSTDose.objects.exists()
    assert OverdoseEvent.objects.exists()
    assert Referral.objects.exclude(status="made").exists()
    assert PopulationSizeEstimate.objects.filter(source=demo.PSE_SOURCE).count() == 14
    # A national estimate: the whole program's dashboard has coverage to show.
    assert PopulationSizeEstimate.objects.filter(source=demo.PSE_SOURCE, area__path="DEMO").count() == 6
    assert StockLevel.objects.filter(quantity__gt=0).count() > StockLevel.objects.filter(quantity__lte=0).count()
    assert AuditEvent.objects.filter(action="demo.load").count() == 1


def test_a_second_load_does_nothing(db, demo_home):
    assert demo.load_demo(clients=15, days=30)
    n = Contact.objects.count()
    assert demo.load_demo(clients=15, days=30) == []
    assert Contact.objects.count() == n


def test_it_is_deterministic(db, demo_home, monkeypatch):
    monkeypatch.setattr(demo, "DEMO_EXTENSIONS", ())  # extensions add contacts of their own
    demo.load_demo(clients=15, days=30)
    first = sorted(Contact.objects.values_list("date", "site__code", "syringes_given", "condoms_given"))
    import random

    from salus.transfer.demo import _contact_rows, _people
    rng = random.Random(demo.SEED)
    people = _people(rng, 15, 30)
    again = _contact_rows(rng, people, {s.code: s for s in Site.objects.all()}, demo.program_today(), 30)
    assert sorted((r.date, r.site.code, r.syringes_given, r.condoms_given) for r in again) == first


def test_it_calls_the_extensions(db, demo_home, monkeypatch):
    seen = {}
    module = types.ModuleType("demo_extension_for_test")
    module.load = lambda ctx: seen.update(sites=set(ctx.sites), roles=set(ctx.users), n=len(ctx.clients), today=ctx.today)
    monkeypatch.setitem(sys.modules, "demo_extension_for_test", module)
    monkeypatch.setattr(demo, "DEMO_EXTENSIONS", ("demo_extension_for_test", "no_such_module_here"))
    monkeypatch.setattr(demo, "_module_exists", lambda name: name in sys.modules)
    demo.load_demo(clients=10, days=20)
    assert seen["sites"] == {s[0] for s in demo.SITES}
    assert seen["roles"] == {"worker", "coordinator", "clinician", "manager", "analyst", "admin"}
    assert seen["n"] == Client.objects.count()


def test_it_gives_the_demo_a_dhis2_mapping_that_fits_it(db, demo_home):
    """The indicators page offers DHIS2 files once a mapping exists: the demo's must name
    every area and site of the demo, so that any place's download works."""
    from salus.core.models import Area
    from salus.indicators.exports import build_export, mapping_path

    (demo_home / "dhis2-mapping.toml").unlink(missing_ok=True)
    demo.load_demo(clients=30, days=60)
    mapping = mapping_path()
    assert mapping == demo_home / "dhis2-mapping.toml"
    year = str(demo.program_today().year)
    for area in [None, *Area.objects.filter(parent__isnull=False).values_list("path", flat=True)]:
        export = build_export("adx", year, area=area, mapping_file=mapping)
        assert export.written > 0, area
    for site in Site.objects.values_list("code", flat=True):
        assert build_export("json", year, site=site, mapping_file=mapping).written > 0, site


def test_it_keeps_a_programs_own_mapping(db, demo_home):
    (demo_home / "dhis2-mapping.toml").write_text("# ours\n", encoding="utf-8")
    demo.load_demo(clients=15, days=30)
    assert (demo_home / "dhis2-mapping.toml").read_text(encoding="utf-8") == "# ours\n"
