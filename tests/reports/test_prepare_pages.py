"""``salus prepare-pages``: a period's suppressed pages worked out ahead of their readers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from salus.cli import main

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("place", [[], ["--area", "XL/SOUTH/S1"], ["--site", "NA1"]])
def test_the_pages_it_prepares_are_not_worked_out_again_for_their_reader(client, quarter, monkeypatch, capsys, place):
    from salus.indicators import release

    assert main(["prepare-pages", "--period", "2025Q1", *place]) == 0
    assert "2025Q1" in capsys.readouterr().out
    worked_out = []
    real = release.pattern_of_year
    monkeypatch.setattr(release, "pattern_of_year", lambda *a, **k: worked_out.append(1) or real(*a, **k))
    client.force_login(quarter.analyst)
    query = {"period": "2025Q1"} | dict(zip(place[::2], place[1::2], strict=True))
    query = {k.removeprefix("--"): v for k, v in query.items()}
    for page in ("indicators-home", "reports-dashboard", "reports-program-report"):
        response = client.get(reverse(page), query)
        assert response.status_code == 200, page
    assert worked_out == []


def test_it_names_an_unknown_place():
    with pytest.raises(SystemExit, match="NOPE"):
        main(["prepare-pages", "--period", "2025Q1", "--site", "NOPE"])
