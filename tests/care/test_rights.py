"""Rights-violation reports: who may read them (a matrix over roles), encryption, audit,
and the advocacy report's consent rule and suppression."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from salus.care import actions
from salus.care.models import RightsReport
from salus.core.actions import do_create_user
from salus.core.models import AuditEvent

SECRET = "Officer took my kit near the bridge"


def grant(user):
    user.rights_focal_person = True
    user.save(update_fields=["rights_focal_person"])
    return user


@pytest.fixture
def report(program, today):
    return actions.do_take_rights_report(
        program.worker_a, site=program.site_a, area=program.area_a, occurred_on=today - dt.timedelta(days=3),
        violation_type="confiscation", perpetrator="police", client_wants=["legal"], details=SECRET,
        consent_advocacy=True, today=today,
    )


@pytest.fixture
def people(program):
    coordinator_b = do_create_user("test", username="coord_b_focal", role="coordinator", sites=[program.site_b], password="x")
    worker_focal = do_create_user("test", username="worker_focal", role="worker", sites=[program.site_a], password="x")
    return {
        "worker_a (took it)": (program.worker_a, False),
        "worker_b": (program.worker_b, False),
        "worker at site A with the grant": (grant(worker_focal), False),
        "coordinator_a without the grant": (program.coordinator_a, False),
        "clinician_a": (program.clinician_a, False),
        "manager without the grant": (program.manager, False),
        "analyst": (program.analyst, False),
        "coordinator at site B with the grant": (grant(coordinator_b), False),
        "admin": (program.admin, True),
    }


def test_it_lets_only_focal_people_at_the_site_read_a_report(login, program, report, people):
    results = {}
    for name, (user, _allowed) in people.items():
        r = login(user).get(f"/care/rights/{report.id}/")
        results[name] = r.status_code
        assert SECRET not in r.content.decode() or r.status_code == 200
    assert results == {name: (200 if allowed else results[name]) for name, (_u, allowed) in people.items()}
    assert all(code in (403, 404) for name, code in results.items() if not people[name][1])
    # With the grant, the site's coordinator and the manager read it.
    for user in (grant(program.coordinator_a), grant(program.manager)):
        r = login(user).get(f"/care/rights/{report.id}/")
        assert r.status_code == 200 and SECRET in r.content.decode()


def test_it_audits_every_view_of_a_report(login, program, report):
    c = login(grant(program.coordinator_a))
    c.get(f"/care/rights/{report.id}/")
    c.get(f"/care/rights/{report.id}/")
    assert AuditEvent.objects.filter(action="rights.view", object_id=str(report.id)).count() == 2
    # The audit row holds no content.
    assert SECRET not in str(list(AuditEvent.objects.values_list("detail", flat=True)))


def test_it_shows_the_reporter_only_that_their_own_report_exists(login, program, report, today):
    other = actions.do_take_rights_report(
        program.coordinator_a, site=program.site_a, area=program.area_a, occurred_on=today,
        violation_type="violence", perpetrator="unknown", client_wants=[], details="other secret",
    )
    body = login(program.worker_a).get("/care/rights/").content.decode()
    assert str(report.id)[:8].upper() in body
    assert str(other.id)[:8].upper() not in body
    assert SECRET not in body and "Syringes, naloxone" not in body
    assert login(program.analyst).get("/care/rights/").status_code == 403


def test_it_stores_details_and_response_encrypted(program, report):
    actions.do_update_rights_response(program.admin, report, response="Lawyer called", outcome="resolved")
    with connection.cursor() as cur:
        cur.execute("SELECT details, response FROM care_rightsreport WHERE id = %s", [report.id.hex])
        row = cur.fetchone() or ()
    if not row:
        with connection.cursor() as cur:
            cur.execute("SELECT details, response FROM care_rightsreport")
            row = cur.fetchone()
    assert row[0].startswith("v1.") and SECRET not in row[0]
    assert row[1].startswith("v1.") and "Lawyer" not in row[1]
    report.refresh_from_db()
    assert report.details == SECRET and report.response == "Lawyer called"


def test_it_takes_a_report_from_the_web_and_refuses_another_site(login, program, today):
    c = login(program.worker_a)
    data = {
        "site": program.site_a.pk, "occurred_on": today.isoformat(), "area": program.area_a.pk,
        "violation_type": "detention", "perpetrator": "police", "client_wants": ["legal", "medical"],
        "details": "", "consent_advocacy": "on",
    }
    assert c.post("/care/rights/new/", data).status_code == 302
    r = RightsReport.objects.get()
    assert r.taken_by == program.worker_a and r.client_wants == ["legal", "medical"] and r.consent_advocacy
    data["site"] = program.site_b.pk
    assert c.post("/care/rights/new/", data).status_code == 403
    assert RightsReport.objects.count() == 1
    data.update(site=program.site_a.pk, occurred_on=(today + dt.timedelta(days=2)).isoformat())
    assert "in the future" in c.post("/care/rights/new/", data).content.decode()


def test_it_links_a_report_taken_from_a_client_page_to_that_client(login, program, record_contact, today):
    person = record_contact(program.site_a, "LINK1990F").client
    c = login(program.worker_a)
    page = c.get(f"/clients/{person.id}/").content.decode()
    assert f"/care/rights/new/?client={person.id}" in page
    form = c.get(f"/care/rights/new/?client={person.id}").content.decode()
    assert person.reference in form and f'name="client" value="{person.id}"' in form
    data = {
        "client": str(person.id), "site": program.site_a.pk, "occurred_on": today.isoformat(),
        "area": program.area_a.pk, "violation_type": "detention", "perpetrator": "police", "client_wants": ["legal"],
    }
    assert c.post("/care/rights/new/", data).status_code == 302
    report = RightsReport.objects.get()
    assert report.client_id == person.id
    # The focal person at the site sees which record it is; the link is shown to readers who may open it.
    detail = login(grant(program.coordinator_a)).get(f"/care/rights/{report.id}/").content.decode()
    assert f"/clients/{person.id}/" in detail


def test_it_refuses_to_link_a_client_of_another_site(login, program, record_contact, today):
    person = record_contact(program.site_a, "LINK1990F").client
    c = login(program.worker_b)
    assert c.get(f"/care/rights/new/?client={person.id}").status_code == 404
    data = {
        "client": str(person.id), "site": program.site_b.pk, "occurred_on": today.isoformat(),
        "area": program.area_a.pk, "violation_type": "detention", "perpetrator": "police", "client_wants": ["legal"],
    }
    assert c.post("/care/rights/new/", data).status_code == 404
    assert not RightsReport.objects.exists()


def test_a_report_taken_without_a_client_stays_unlinked(login, program, today):
    c = login(program.worker_a)
    assert "care-linked" not in c.get("/care/rights/new/").content.decode()


def test_it_counts_only_consented_reports_in_the_advocacy_report_and_suppresses(login, program, today):
    for i in range(7):
        actions.do_take_rights_report(
            program.worker_a, site=program.site_a, area=program.area_a, occurred_on=today,
            violation_type="police_harassment" if i < 5 else "violence", perpetrator="police",
            client_wants=[], consent_advocacy=i != 6,
        )
    body = login(program.admin).get(f"/care/rights/advocacy/?period={today.year}").content.decode()
    assert "Police harassment or extortion" in body
    flat = body.replace("\n", "")
    # 6 consented: violence (1) is hidden, and so is harassment (5), the next smallest, since
    # the total (6) is shown and would give the hidden cell away.
    assert '<th>Violence</th><td class="num"><span class="care-suppressed">' in flat
    assert '<th>Police harassment or extortion</th><td class="num"><span class="care-suppressed">' in flat
    assert '<th>Police or other law enforcement</th><td class="num">6</td>' in flat
    assert "fewer than 5" in body
    assert "Reports counted:</strong> 6" in body


def test_it_never_includes_rights_reports_in_the_client_api_or_page(login, program, record_contact, today):
    client = record_contact(program.site_a, raw_uic="RIGH1990M", when=today).client
    actions.do_take_rights_report(
        program.worker_a, site=program.site_a, area=program.area_a, occurred_on=today,
        violation_type="violence", perpetrator="police", client_wants=[], details=SECRET, client=client,
    )
    body = login(grant(program.coordinator_a)).get(f"/care/clients/{client.id}/").content.decode()
    assert SECRET not in body


def test_it_keeps_rights_reports_out_of_every_individual_level_export():
    import inspect

    from salus.transfer import registry

    for kind in registry.EXPORTERS:
        module = registry.exporter(kind)
        source = inspect.getsource(module)
        assert "salus.care" not in source and "RightsReport" not in source, kind
        assert not any("right" in c or "violation" in c for c in getattr(module, "COLUMNS", ())), kind


def test_it_prints_the_advocacy_report_in_a_chosen_language(login, program):
    body = login(program.admin).get("/care/rights/advocacy/?lang=ar").content.decode()
    assert '<html lang="ar" dir="rtl">' in body


def test_no_advocacy_report_gives_away_a_month_hidden_in_another(program):
    """6 reports in January, 2 in February, 7 in March 2025. February is hidden in its own
    report; the first quarter's report and the other months' must not give it back."""
    from salus.care import aggregates
    from salus.indicators.periods import parse_period

    for month, n in ((1, 6), (2, 2), (3, 7)):
        for _ in range(n):
            actions.do_take_rights_report(
                program.worker_a, site=program.site_a, area=program.area_a, occurred_on=dt.date(2025, month, 12),
                violation_type="violence", perpetrator="police", client_wants=[], consent_advocacy=True,
            )
    shown = {label: aggregates.advocacy_report(program.admin, parse_period(label))
             for label in ("2025", "2025Q1", "2025-01", "2025-02", "2025-03")}
    assert shown["2025-02"]["total"] is None
    months = [shown[m]["total"] for m in ("2025-01", "2025-02", "2025-03")]
    assert shown["2025Q1"]["total"] is None or months.count(None) >= 2, (shown["2025Q1"]["total"], months)
    # The year is the first quarter: whatever one shows, the other shows alike.
    assert shown["2025"]["total"] == shown["2025Q1"]["total"]
    for dim in ("type", "perpetrator", "area"):
        cells = [shown[m][dim] for m in ("2025-01", "2025-02", "2025-03")]
        for key, quarter_value in shown["2025Q1"][dim].items():
            values = [c.get(key) for c in cells]
            if quarter_value is not None:
                assert values.count(None) != 1, (dim, key, quarter_value, values)
