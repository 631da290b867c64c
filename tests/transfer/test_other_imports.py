"""Importing sites, OST episodes and population size estimates."""

from __future__ import annotations

import datetime as dt

from salus.clients import uic
from salus.clients.models import Client, ClientSite
from salus.core.models import Area, AuditEvent, PopulationSizeEstimate, Site
from salus.services.models import OSTEpisode
from salus.transfer.importers import ost, pse, sites
from salus.transfer.importing import run_import

from .helpers import csv_bytes


def test_it_imports_sites_creating_areas_on_the_path(program):
    data = csv_bytes(sites.COLUMNS, [
        ["NA2", "North mobile unit", "XL/NORTH/N2", "mobile"],
        ["NA3", "North pharmacy", "N1", "pharmacy"],  # a bare code that is unique
        ["NA1", "North drop-in (renamed)", "XL/NORTH/N1", "drop_in"],
    ])
    result = run_import("sites", data, "cli")
    assert result.ok, result.problems
    assert (result.counts["sites_created"], result.counts["sites_updated"]) == (2, 1)
    assert Site.objects.get(code="NA2").area.path == "XL/NORTH/N2"
    assert Area.objects.get(path="XL/NORTH/N2").parent.path == "XL/NORTH"
    assert Site.objects.get(code="NA3").area == program.area_a
    assert Site.objects.get(code="NA1").name == "North drop-in (renamed)"


def test_it_names_bad_site_rows(program):
    data = csv_bytes(sites.COLUMNS, [
        ["NA 2", "x", "XL/NORTH/N1", "mobile"],
        ["NA4", "", "NOWHERE", "clinic"],
        ["NA5", "y", "XL/NORTH/N1", "pharmacy"],
        ["NA5", "y", "XL//", "pharmacy"],
    ])
    result = run_import("sites", data, "cli")
    assert [str(p) for p in result.problems] == [
        "line 2, column code: NA 2 is not a site code (up to 40 letters, digits, - _ or .)",
        "line 3, column name: this cell cannot be blank",
        "line 3, column area: Unknown area NOWHERE. Write the full path to create it.",
        "line 3, column kind: clinic is not one of: fixed_nsp, drop_in, outreach, mobile, ost_clinic, pharmacy, prison",
        "line 5, column code: site NA5 is on line 4 too",
    ]
    assert Site.objects.count() == 2


def test_a_site_scoped_user_cannot_import_sites(program):
    data = csv_bytes(sites.COLUMNS, [["NA2", "x", "XL/NORTH/N1", "mobile"]])
    result = run_import("sites", data, program.coordinator_a)
    assert [str(p) for p in result.problems] == ["line 1: only an administrator or manager may import sites"]


def test_it_imports_ost_episodes_and_closes_them_on_reimport(program):
    rows = [["MAJO1985M", "NA1", "methadone", "2025-01-10", "", ""],
            ["ABCD1990F", "NA1", "buprenorphine", "2024-05-01", "2024-09-30", "completed"]]
    assert run_import("ost", csv_bytes(ost.COLUMNS, rows), "cli").counts["episodes_created"] == 2
    client = Client.objects.get(uic_hash=uic.hash_raw("MAJO1985M").uic_hash)
    assert ClientSite.objects.filter(client=client, site=program.site_a).exists()
    ep = OSTEpisode.objects.get(client=client)
    assert (ep.start_date, ep.end_date, ep.source) == (dt.date(2025, 1, 10), None, "import")
    again = run_import("ost", csv_bytes(ost.COLUMNS, rows), "cli")
    assert again.counts["episodes_unchanged"] == 2 and OSTEpisode.objects.count() == 2
    rows[0][4:] = ["2025-06-01", "voluntary"]
    closed = run_import("ost", csv_bytes(ost.COLUMNS, rows), "cli")
    assert closed.counts["episodes_updated"] == 1
    ep.refresh_from_db()
    assert (ep.end_date, ep.end_reason) == (dt.date(2025, 6, 1), "voluntary")


def test_it_names_bad_ost_rows(program):
    OSTEpisode.objects.create(
        client=Client.objects.create(uic_hash=uic.hash_raw("OPEN1980M").uic_hash, registered_site=program.site_a),
        site=program.site_a, medication="methadone", start_date=dt.date(2024, 1, 1),
    )
    rows = [
        ["MAJO1985M", "NA1", "heroin", "2025-01-10", "", ""],
        ["MAJO1985M", "NA1", "methadone", "2025-01-10", "2025-01-01", "completed"],
        ["MAJO1985M", "NA1", "methadone", "2025-01-10", "2025-02-01", ""],
        ["ABCD1990F", "NA1", "methadone", "2025-01-10", "", ""],
        ["ABCD1990F", "NA1", "buprenorphine", "2025-02-10", "", ""],
        ["OPEN1980M", "NA1", "methadone", "2025-02-10", "", ""],
    ]
    result = run_import("ost", csv_bytes(ost.COLUMNS, rows), "cli")
    assert [str(p) for p in result.problems] == [
        "line 2, column medication: heroin is not one of: methadone, buprenorphine, other",
        "line 3, column end_date: the end date is before the start date",
        "line 4, column end_reason: give an end reason exactly when there is an end date",
        "line 6, column end_date: this client has another ongoing episode on line 5",
        "line 7, column end_date: this client already has an ongoing OST episode; end it first",
    ]
    assert OSTEpisode.objects.count() == 1


def test_it_imports_and_replaces_population_size_estimates(program):
    rows = [["XL/NORTH", "pwid", "2025", "1200", "900", "1500", "multiplier", "2025 survey"],
            ["N1", "opioid_dependent", "2025", "800", "", "", "", ""]]
    result = run_import("pse", csv_bytes(pse.COLUMNS, rows), "cli")
    assert result.ok and result.counts["estimates_created"] == 2
    rows[0][3] = "1300"
    again = run_import("pse", csv_bytes(pse.COLUMNS, rows), "cli")
    assert (again.counts["estimates_created"], again.counts["estimates_updated"]) == (0, 2)
    est = PopulationSizeEstimate.objects.get(area__path="XL/NORTH")
    assert (est.estimate, est.low, est.high, est.source) == (1300, 900, 1500, "2025 survey")
    assert AuditEvent.objects.filter(action="import.pse").count() == 2


def test_it_names_bad_estimate_rows(program):
    rows = [["XL/EAST", "pwid", "2025", "10", "", "", "", ""],
            ["XL/NORTH", "people", "25", "0", "", "", "", ""],
            ["XL/NORTH", "pwid", "2025", "100", "200", "50", "", ""],
            ["XL/NORTH", "pwid", "2024", "100", "", "", "", ""],
            ["XL/NORTH", "pwid", "2024", "120", "", "", "", ""]]
    result = run_import("pse", csv_bytes(pse.COLUMNS, rows), "cli")
    assert [str(p) for p in result.problems] == [
        "line 2, column area: Unknown area XL/EAST.",
        "line 3, column population: people is not one of: pwid, opioid_dependent, pwid_hiv",
        "line 3, column estimate: 0 is not a whole number above zero",
        "line 3, column year: 25 is not a plausible year",
        "line 4, column low: the low bound is above the estimate",
        "line 4, column high: the high bound is below the estimate",
        "line 6, column year: the same area, population and year is on line 5 too",
    ]
    assert PopulationSizeEstimate.objects.count() == 0
