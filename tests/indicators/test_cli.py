"""The commands: salus indicators, salus export indicators, salus export dhis2 (JSON and ADX)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from salus.cli import main

pytestmark = pytest.mark.django_db
EXAMPLE_MAPPING = Path(__file__).resolve().parents[2] / "src/salus/indicators/exports/dhis2-mapping.example.toml"


@pytest.fixture
def larger(program, record_contact):
    """12 women and 7 men who inject, at NA1 in March 2025; one man at SB1; a PSE for XL."""
    from salus.core.models import Area, PopulationSizeEstimate

    for i in range(12):
        record_contact(program.site_a, f"FA{chr(65 + i)}A1990F", when=dt.date(2025, 3, 1), syringes_given=10)
    for i in range(7):
        record_contact(program.site_a, f"MA{chr(65 + i)}A1985M", when=dt.date(2025, 3, 2), syringes_given=10)
    record_contact(program.site_b, "ZZZZ1980M", when=dt.date(2025, 3, 3), syringes_given=10)
    PopulationSizeEstimate.objects.create(area=Area.objects.get(path="XL"), population="pwid", year=2025,
                                          estimate=400, low=300, high=500, source="test")
    return program


def test_it_prints_json_rows(larger, capsys):
    assert main(["indicators", "--period", "2025Q1", "--format", "json", "--as-of", "2025-06-30"]) == 0
    rows = json.loads(capsys.readouterr().out)
    total = next(r for r in rows if r["code"] == "CLIENTS_REACHED" and not r["disaggregation"])
    assert total["value"] == 20 and total["period"] == "2025Q1"
    cov = next(r for r in rows if r["code"] == "NSP_COVERAGE" and not r["disaggregation"])
    assert cov["value"] == pytest.approx(20 / 400)
    # SB1's single client is hidden, and so is the complement that would reveal it.
    sb1 = next(r for r in rows if r["code"] == "CLIENTS_REACHED" and r["disaggregation"].get("site") == "SB1")
    assert sb1["value"] is None and sb1["suppressed"]


def test_it_shows_small_counts_only_when_asked(larger, capsys):
    main(["indicators", "--period", "2025Q1", "--format", "json", "--unsuppressed", "--codes", "CLIENTS_REACHED"])
    rows = json.loads(capsys.readouterr().out)
    sb1 = next(r for r in rows if r["disaggregation"].get("site") == "SB1")
    assert sb1["value"] == 1


def test_it_prints_a_table(larger, capsys):
    main(["indicators", "--period", "2025-03", "--area", "XL/NORTH/N1", "--totals"])
    out = capsys.readouterr().out
    assert "CLIENTS_REACHED" in out and "19" in out
    assert "Notes:" in out


def test_it_refuses_an_unknown_area(larger):
    with pytest.raises(SystemExit):
        main(["indicators", "--period", "2025", "--area", "NOWHERE"])


def test_it_exports_every_cell_as_csv(larger, tmp_path):
    out = tmp_path / "ind.csv"
    assert main(["export", "indicators", "--period", "2025Q1", "--out", str(out)]) == 0
    assert os.stat(out).st_mode & 0o777 == 0o600
    rows = list(csv.DictReader(out.open()))
    assert {r["code"] for r in rows} >= {"CLIENTS_REACHED", "STOCKOUT_DAYS"}
    for r in rows:
        if r["code"] != "STOCKOUT_DAYS":
            for f in ("numerator", "denominator"):
                assert not (r[f] and 0 < float(r[f]) < 5), r
    f_cell = next(r for r in rows if r["code"] == "CLIENTS_REACHED" and r["sex"] == "F" and not r["age"])
    assert f_cell["value"] == "12"


def test_it_exports_dhis2_data_value_sets_with_codes(larger, tmp_path):
    out = tmp_path / "q1.json"
    assert main(["export", "dhis2", "--period", "2025Q1", "--format", "json", "--mapping", str(EXAMPLE_MAPPING),
                 "--out", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert payload["idScheme"] == "code" and payload["dataSet"] == "HRP_QUARTERLY"
    values = {(v["dataElement"], v["orgUnit"], v["categoryOptionCombo"]): v["value"] for v in payload["dataValues"]}
    assert values[("HRP_CLIENTS_REACHED", "OU_XL_NATIONAL", "default")] == "20"
    assert values[("HRP_CLIENTS_REACHED", "OU_XL_NATIONAL", "COC_F")] == "12"
    assert values[("HRP_NSP_COVERAGE_PCT", "OU_XL_NATIONAL", "default")] == "5"  # 20 / 400 as a percentage
    assert all(v["period"] == "2025Q1" for v in payload["dataValues"])
    # Hidden cells are left out, never sent as zero or as a small number.
    assert ("HRP_CLIENTS_REACHED", "OU_SB1_OUTREACH", "default") not in values
    assert all(not (0 < float(v) < 5) for (de, _ou, _c), v in values.items() if de != "HRP_NSP_COVERAGE_PCT"
               and de != "HRP_NS_PER_PWID")


def test_it_exports_adx_with_category_attributes(larger, tmp_path):
    out = tmp_path / "q1.xml"
    assert main(["export", "dhis2", "--period", "2025Q1", "--format", "adx", "--mapping", str(EXAMPLE_MAPPING),
                 "--out", str(out)]) == 0
    root = ET.parse(out).getroot()
    ns = {"adx": "urn:ihe:qrph:adx:2015"}
    group = root.find("adx:group[@orgUnit='OU_XL_NATIONAL']", ns)
    assert group.get("period") == "2025-01-01/P3M" and group.get("dataSet") == "HRP_QUARTERLY"
    female = [v for v in group.findall("adx:dataValue", ns)
              if v.get("dataElement") == "HRP_CLIENTS_REACHED" and v.get("SEX") == "FEMALE" and v.get("AGE") is None]
    assert [v.get("value") for v in female] == ["12"]


def test_it_exports_one_site_to_its_own_org_unit(larger, tmp_path, capsys):
    out = tmp_path / "na1.xml"
    assert main(["export", "dhis2", "--period", "2025Q1", "--format", "adx", "--mapping", str(EXAMPLE_MAPPING),
                 "--site", "NA1", "--out", str(out)]) == 0
    root = ET.parse(out).getroot()
    ns = {"adx": "urn:ihe:qrph:adx:2015"}
    assert [g.get("orgUnit") for g in root.findall("adx:group", ns)] == ["OU_NA1_DROPIN"]
    totals = [v.get("value") for v in root.findall("adx:group/adx:dataValue", ns)
              if v.get("dataElement") == "HRP_CLIENTS_REACHED" and v.get("SEX") is None and v.get("AGE") is None]
    assert totals == ["19"]  # 12 women and 7 men at NA1
    assert "wrote" in capsys.readouterr().out


def test_it_stops_on_an_incomplete_mapping(larger, tmp_path, capsys):
    mapping = tmp_path / "m.toml"
    mapping.write_text('[org_units]\n"XL" = "OU"\n[[data_values]]\nindicator = "CLIENTS_REACHED"\n'
                       'data_element = "DE"\ncells = ["", "sex"]\ncategory_option_combos = { "" = "default" }\n')
    out = tmp_path / "x.json"
    assert main(["export", "dhis2", "--period", "2025Q1", "--format", "json", "--mapping", str(mapping),
                 "--out", str(out)]) == 2
    assert "sex=F" in capsys.readouterr().err
    assert not out.exists()
    mapping.write_text('[[data_values]]\nindicator = "NOT_A_CODE"\ndata_element = "DE"\n')
    assert main(["export", "dhis2", "--period", "2025Q1", "--format", "adx", "--mapping", str(mapping),
                 "--out", str(out)]) == 2
