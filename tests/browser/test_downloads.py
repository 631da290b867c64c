"""An analyst downloads the indicators of the page they are looking at, in a real browser."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest


@pytest.mark.browser
def test_an_analyst_downloads_the_csv_of_the_page(page, live_server, program, record_contact, log_in):
    from django.core.cache import cache

    cache.clear()
    for n, uic in enumerate(("BEAL1990F", "BEAM1991M", "BEAN1992F", "BEAP1993M", "BEAR1994F", "BEAS1995M")):
        record_contact(program.site_a, uic, when=dt.date(2025, 2, 3 + n), syringes_given=10)
    log_in(program.analyst)
    page.goto(live_server.url + "/reports/indicators/?period=2025Q1&site=NA1")
    link = page.get_by_role("link", name="Every cell (CSV)")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "salus-indicators-2025Q1-NA1.csv"
    with open(download.path(), encoding="utf-8") as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    syringes = next(r for r in rows if r["code"] == "SYRINGES_DISTRIBUTED" and not r["sex"] and not r["age"]
                    and not r["site"] and not r["area"] and not r["commodity"])
    assert syringes["numerator"] == "60" and syringes["scope_site"] == "NA1"


@pytest.mark.browser
def test_a_mapping_that_does_not_fit_says_so_on_the_page(page, live_server, program, log_in, with_mapping):
    log_in(program.analyst)
    # The example mapping has no org unit for the district XL/SOUTH/S1.
    page.goto(live_server.url + "/reports/indicators/?period=2025Q1&area=XL/SOUTH/S1")
    page.get_by_role("link", name="DHIS2 (JSON)").click()
    page.wait_for_load_state("load")
    assert "no file was made" in page.locator(".report-error").inner_text()
    assert page.locator("h1").inner_text() == "Indicators"
