"""Downloads from the indicators page (CSV, DHIS2 JSON, ADX), by role, against the records of
tests/reports/conftest.py: always suppressed, whoever asks, and each one audited."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from salus.core import keys  # noqa: F401  (keys are made by the autouse fixture)
from salus.core.config import reset_cache
from salus.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _get(client, user, name, **params):
    client.force_login(user)
    return client.get(reverse(name), params)


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


def _total(rows: list[dict], code: str) -> dict:
    return next(r for r in rows if r["code"] == code and not any(r[d] for d in ("sex", "age", "area", "site", "commodity")))


@pytest.fixture
def without_mapping(tmp_path, monkeypatch):
    config = tmp_path / "program.toml"
    config.write_text(f'dhis2_mapping = "{tmp_path / "absent.toml"}"\n', encoding="utf-8")
    monkeypatch.setenv("SALUS_PROGRAM_CONFIG", str(config))
    reset_cache()
    yield
    reset_cache()


def test_a_manager_downloads_suppressed_numbers_though_the_page_shows_them(client, quarter):
    page = _get(client, quarter.manager, "indicators-home", period="2025Q1", area="XL/SOUTH/S1")
    assert next(r for r in page.context["rows"] if r.code == "CLIENTS_REACHED").programme == "2"
    r = _get(client, quarter.manager, "indicators-download", period="2025Q1", area="XL/SOUTH/S1", format="csv")
    assert r.status_code == 200
    assert r["Content-Disposition"] == 'attachment; filename="salus-indicators-2025Q1-XL_SOUTH_S1.csv"'
    assert "no-store" in r["Cache-Control"]
    clients = _total(_csv(r), "CLIENTS_REACHED")
    # Site B's two clients: hidden in the file, which leaves the system.
    assert clients["numerator"] == "" and clients["value"] == "" and clients["suppressed"] == "yes"
    assert clients["period"] == "2025Q1" and clients["scope_area"] == "XL/SOUTH/S1"


def test_the_csv_holds_what_the_command_line_writes(client, quarter):
    from salus.indicators.exports.csvfile import write_csv
    from salus.indicators.release import suppressed_indicators

    r = _get(client, quarter.analyst, "indicators-download", period="2025Q1", area="XL/NORTH/N1", format="csv")
    out = io.StringIO()
    n = write_csv(suppressed_indicators("2025Q1", area="XL/NORTH/N1"), out)
    assert r.content.decode("utf-8") == out.getvalue()
    assert len(_csv(r)) == n > 23
    assert _total(_csv(r), "SYRINGES_DISTRIBUTED")["numerator"] == "180"  # 6 clients × 3 × 10


def test_each_download_is_audited(client, quarter):
    before = AuditEvent.objects.filter(action="export.aggregate").count()
    _get(client, quarter.analyst, "indicators-download", period="2025Q1", site="NA1", format="csv")
    ev = AuditEvent.objects.filter(action="export.aggregate").order_by("-seq").first()
    assert AuditEvent.objects.filter(action="export.aggregate").count() == before + 1
    assert ev.actor == quarter.analyst and ev.site_code == "NA1"
    assert ev.object_id == "salus-indicators-2025Q1-NA1.csv"
    assert ev.detail["format"] == "csv" and ev.detail["period"] == "2025Q1" and ev.detail["site"] == "NA1"
    assert ev.detail["written"] > 0 and "hidden" in ev.detail


def test_a_coordinator_downloads_their_own_site_only(client, quarter):
    r = _get(client, quarter.coordinator_a, "indicators-download", period="2025Q1", format="csv")
    assert r.status_code == 200
    assert 'filename="salus-indicators-2025Q1-NA1.csv"' in r["Content-Disposition"]
    assert _get(client, quarter.coordinator_a, "indicators-download", period="2025Q1", site="SB1",
                format="csv").status_code == 404
    assert _get(client, quarter.coordinator_a, "indicators-download", period="2025Q1", area="XL",
                format="csv").status_code == 403


def test_roles_without_exports_cannot_download(client, quarter):
    for user in (quarter.worker_a, quarter.clinician_a):
        assert _get(client, user, "indicators-download", period="2025Q1", site="NA1", format="csv").status_code == 403
    assert not AuditEvent.objects.filter(action="export.aggregate").exists()


def test_dhis2_json_and_adx_through_the_programs_mapping(client, quarter, with_mapping):
    page = _get(client, quarter.analyst, "indicators-home", period="2025Q1", area="XL/NORTH")
    html = page.content.decode()
    assert "format=json" in html and "format=adx" in html and "area=XL%2FNORTH" in html

    r = _get(client, quarter.analyst, "indicators-download", period="2025Q1", area="XL/NORTH", format="json")
    assert r.status_code == 200 and r["Content-Type"] == "application/json"
    assert 'filename="salus-dhis2-2025Q1-XL_NORTH.json"' in r["Content-Disposition"]
    values = json.loads(r.content)["dataValues"]
    reached = {(v["orgUnit"], v["categoryOptionCombo"]): v["value"]
               for v in values if v["dataElement"] == "HRP_CLIENTS_REACHED"}
    assert reached[("OU_XL_NORTH", "default")] == "6"
    assert reached[("OU_NA1_DROPIN", "default")] == "6"
    assert all(v["period"] == "2025Q1" for v in values)

    adx = _get(client, quarter.analyst, "indicators-download", period="2025Q1", area="XL/NORTH", format="adx")
    assert adx.status_code == 200
    root = ET.fromstring(adx.content)
    groups = {g.get("orgUnit"): g for g in root}
    assert groups["OU_XL_NORTH"].get("period") == "2025-01-01/P3M"
    assert [ev.detail["format"] for ev in AuditEvent.objects.filter(action="export.aggregate").order_by("seq")] \
        == ["json", "adx"]


def test_dhis2_needs_a_mapping_and_says_so(client, quarter, without_mapping):
    page = _get(client, quarter.manager, "indicators-home", period="2025Q1")
    html = page.content.decode()
    assert "format=csv" in html and "format=json" not in html
    assert "need the program’s DHIS2 mapping" in html or "need the program's DHIS2 mapping" in html
    r = _get(client, quarter.manager, "indicators-download", period="2025Q1", format="adx")
    assert r.status_code == 400
    assert "there is none yet" in r.content.decode()
    assert not AuditEvent.objects.filter(action="export.aggregate").exists()


def test_a_mapping_that_does_not_fit_the_place_makes_no_file(client, quarter, with_mapping):
    # The example mapping has no org unit for the district XL/SOUTH/S1.
    r = _get(client, quarter.manager, "indicators-download", period="2025Q1", area="XL/SOUTH/S1", format="json")
    assert r.status_code == 400
    assert "XL/SOUTH/S1" in r.content.decode() and "no file was made" in r.content.decode()
    assert not AuditEvent.objects.filter(action="export.aggregate").exists()


def test_an_unknown_format_is_explained(client, quarter):
    r = _get(client, quarter.manager, "indicators-download", period="2025Q1", format="xlsx")
    assert r.status_code == 400 and "Choose a file format" in r.content.decode()


def test_the_command_line_export_is_audited_too(quarter, tmp_path, capsys):
    from salus.cli import main

    out = tmp_path / "q1.csv"
    assert main(["export", "indicators", "--period", "2025Q1", "--site", "NA1", "--out", str(out)]) == 0
    ev = AuditEvent.objects.filter(action="export.aggregate").get()
    assert ev.actor_name == "cli" and ev.actor is None and ev.object_id == "salus-indicators-2025Q1-NA1.csv"
    assert ev.detail["written"] == len(out.read_text(encoding="utf-8").splitlines()) - 1
