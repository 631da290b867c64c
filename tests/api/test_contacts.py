"""Contacts through the API: recording, idempotent retries, compartments, bad input, lists."""

import json
import logging
import uuid

import pytest

from salus.core.models import AuditEvent
from salus.services.models import Contact, Referral
from salus.stock.models import StockLevel

from .conftest import contact_body

RAW = "MAJO1985M"


def _level(site, code):
    return StockLevel.objects.get(site=site, commodity_id=code).quantity


def _fields(response) -> set[str]:
    return {item["field"] for item in json.loads(response.content)["detail"]}


def test_it_records_a_contact_and_takes_it_out_of_stock(api, program, commodities):
    response = api.post("/contacts", contact_body(naloxone_kits_given=1, referral_to="hcv_care"), as_="worker_a")
    assert response.status_code == 201
    body = response.json()
    contact = Contact.objects.get(pk=body["id"])
    assert (contact.site, contact.staff, contact.source) == (program.site_a, program.worker_a, "api")
    assert str(contact.client_id) == body["client"]
    assert (body["date"], body["time"], body["syringes_given"], body["referral_to"]) == ("2025-03-01", "12:00", 10, "hcv_care")
    assert (body["sex"], body["birth_year"]) == ("M", 1985)  # from the code itself
    assert _level(program.site_a, "syringe") == 990
    assert _level(program.site_a, "naloxone_kit") == 999
    assert Referral.objects.filter(contact=contact, service="hcv_care").count() == 1
    assert AuditEvent.objects.filter(action="contact.record", object_id=str(contact.id)).count() == 1


def test_it_never_echoes_stores_or_logs_the_raw_code(api, program, commodities, caplog):
    caplog.set_level(logging.DEBUG)
    created = api.post("/contacts", contact_body(), as_="worker_a")
    found = api.get(f"/clients?uic={RAW}", as_="worker_a")
    bad = api.post("/contacts", contact_body(uic="MAJO19X5M"), as_="worker_a")
    for response in (created, found, bad):
        assert RAW.encode() not in response.content and b"MAJO19X5M" not in response.content
    assert "uic" not in created.json()
    assert RAW not in caplog.text and "MAJO19X5M" not in caplog.text
    for event in AuditEvent.objects.all():
        assert RAW not in json.dumps(event.detail)


def test_it_records_one_contact_when_the_same_id_is_posted_twice(api, program, commodities):
    body = contact_body(id=str(uuid.uuid4()))
    first = api.post("/contacts", body, as_="worker_a")
    again = api.post("/contacts", body, as_="worker_a")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] == body["id"]
    assert (first.json()["created"], again.json()["created"]) == (True, False)
    assert Contact.objects.count() == 1
    assert _level(program.site_a, "syringe") == 990


def test_it_answers_409_when_an_id_is_reused_for_a_different_contact(api, program, commodities):
    cid = str(uuid.uuid4())
    assert api.post("/contacts", contact_body(id=cid), as_="worker_a").status_code == 201
    response = api.post("/contacts", contact_body(id=cid, syringes_given=30), as_="worker_a")
    assert response.status_code == 409
    assert _fields(response) == {"id"}
    assert Contact.objects.get().syringes_given == 10
    assert _level(program.site_a, "syringe") == 990


def test_it_keeps_results_from_users_without_clinical_view(api, program, commodities):
    response = api.post("/contacts", contact_body(hiv_test_result="positive", art_status="not_on_art"), as_="worker_a")
    assert response.status_code == 201
    body = response.json()
    assert (body["hiv_test_result"], body["art_status"], body["hiv_tested"]) == ("", "", True)
    assert Contact.objects.get().hiv_result == "positive"
    seen_by_clinician = api.get(f"/contacts/{body['id']}", as_="clinician_a").json()
    assert (seen_by_clinician["hiv_test_result"], seen_by_clinician["art_status"]) == ("positive", "not_on_art")
    assert api.get(f"/contacts/{body['id']}", as_="coordinator_a").json()["hiv_test_result"] == "positive"
    assert api.get(f"/contacts/{body['id']}", as_="worker_a").json()["hiv_test_result"] == ""


@pytest.mark.parametrize(("persona", "status"), [
    ("worker_a", 200), ("coordinator_a", 200), ("manager", 200), ("worker_b", 404), ("analyst", 403), (None, 401),
])
def test_it_shows_one_contact_only_at_the_users_sites(api, program, record_contact, persona, status):
    contact = record_contact(program.site_a, RAW)
    response = api.get(f"/contacts/{contact.id}", as_=persona)
    assert response.status_code == status
    views = AuditEvent.objects.filter(action="contact.view", object_id=str(contact.id)).count()
    assert views == (1 if status == 200 else 0)


@pytest.mark.parametrize(("persona", "status"), [
    ("worker_a", 201), ("coordinator_a", 201), ("clinician_a", 201), ("admin", 201),
    ("worker_b", 403), ("analyst", 403), (None, 401),
])
def test_it_lets_only_site_a_staff_record_at_site_a(api, program, commodities, persona, status):
    assert api.post("/contacts", contact_body(), as_=persona).status_code == status
    assert Contact.objects.count() == (1 if status == 201 else 0)


def test_it_names_a_malformed_id_in_the_path(api, program):
    response = api.get("/contacts/12", as_="worker_a")
    assert response.status_code == 422
    assert _fields(response) == {"contact_id"}


@pytest.mark.parametrize(("field", "value"), [
    ("syringes_given", "ten"), ("syringes_given", -1), ("syringes_given", 2.5), ("syringes_given", 10**12),
    ("syringes_returned", None), ("condoms_given", "4x"), ("naloxone_kits_given", -3),
    ("other_equipment_given", []),
    ("education", "maybe"), ("sti_screened", 7), ("uses_alone", "often"),
    ("date", "2025-13-01"), ("date", "yesterday"), ("date", "2999-01-01"), ("date", "1970-01-01"),
    ("time", "25:00"), ("time", "14:30+05:00"), ("occurred_at", "soon"),
    ("occurred_at", "9999-12-31T23:00:00-05:00"), ("occurred_at", "0001-01-01T00:30:00+05:00"),
    ("occurred_at", "2999-01-01T10:00:00Z"),
    ("released_from_detention_on", "x"), ("left_treatment_on", "2999-01-01"),
    ("sex", "Q"), ("birth_year", "old"), ("birth_year", 1800), ("birth_year", 1990), ("sex", "F"),
    ("hiv_test_result", "reactive"), ("hcv_test_result", True), ("art_status", "yes"),
    ("referral_to", "spa"), ("setting", "car"),
    ("site", "NOPE"), ("site", 12), ("id", "123"), ("id", 5),
    ("uic", ""), ("uic", "AB"), ("uic", "MAJO19X5M"), ("uic", "M" * 100),
    ("notes", "x" * 5000), ("notes", {"a": 1}), ("notes", "a\x00b"), ("site", "N\x00A1"),
    ("full_name", "Ali"),
])
def test_it_names_the_field_of_bad_input(api, program, commodities, field, value):
    body = contact_body(**{field: value})
    if field == "occurred_at":
        del body["date"]
    response = api.post("/contacts", body, as_="worker_a")
    assert response.status_code == 422, response.content
    assert field in _fields(response)
    assert Contact.objects.count() == 0


@pytest.mark.parametrize("missing", ["site", "uic"])
def test_it_requires_site_and_uic(api, program, missing):
    body = contact_body()
    del body[missing]
    response = api.post("/contacts", body, as_="worker_a")
    assert response.status_code == 422
    assert _fields(response) == {missing}


def test_it_requires_a_date_or_a_moment(api, program):
    body = contact_body()
    del body["date"]
    response = api.post("/contacts", body, as_="worker_a")
    assert (response.status_code, _fields(response)) == (422, {"date"})


def test_it_answers_a_body_that_is_not_an_object_with_422(api, program):
    response = api.post("/contacts", ["not", "an", "object"], as_="worker_a")
    assert response.status_code == 422


def test_it_takes_a_full_moment_and_dates_it_in_the_program_time_zone(api, program, commodities, monkeypatch, tmp_path):
    from salus.core.config import reset_cache

    config = tmp_path / "program.toml"
    config.write_text('timezone = "Asia/Kabul"\n')
    monkeypatch.setenv("SALUS_PROGRAM_CONFIG", str(config))
    reset_cache()
    body = contact_body(occurred_at="2025-03-01T21:00:00+00:00")
    del body["date"]
    response = api.post("/contacts", body, as_="worker_a")
    assert response.status_code == 201
    # 21:00 UTC is 01:30 the next day in Kabul (UTC+4:30).
    assert (response.json()["date"], response.json()["time"]) == ("2025-03-02", "01:30")


@pytest.mark.parametrize("persona", ["worker_a", "clinician_a"])
def test_it_answers_a_new_contact_as_it_shows_it_afterwards(api, program, commodities, monkeypatch, tmp_path, persona):
    # The answer to a POST is built from the contact just written, not read back: it must be
    # what a GET shows, time zone, referral and clinical compartment included.
    from salus.core.config import reset_cache

    config = tmp_path / "program.toml"
    config.write_text('timezone = "Asia/Kabul"\n')
    monkeypatch.setenv("SALUS_PROGRAM_CONFIG", str(config))
    reset_cache()
    body = contact_body(time="09:15", sex="M", hiv_test_result="negative", art_status="on_art", referral_to="hcv_care",
                        released_from_detention_on="2025-02-20", uses_alone=True, notes="asked about the clinic")
    created = api.post("/contacts", body, as_=persona)
    assert created.status_code == 201, created.content
    shown = api.get(f"/contacts/{created.json()['id']}", as_=persona)
    assert created.json() == shown.json() | {"created": True}
    assert (created.json()["occurred_at"], created.json()["referral_to"]) == ("2025-03-01T04:45:00Z", "hcv_care")
    assert created.json()["hiv_test_result"] == ("negative" if persona == "clinician_a" else "")


def test_it_answers_a_retry_as_it_shows_the_stored_contact(api, program, commodities):
    body = contact_body(id=str(uuid.uuid4()), referral_to="hcv_care", notes="first visit")
    assert api.post("/contacts", body, as_="worker_a").status_code == 201
    again = api.post("/contacts", body, as_="worker_a")
    shown = api.get(f"/contacts/{body['id']}", as_="worker_a")
    assert again.status_code == 200
    assert again.json() == shown.json() | {"created": False}


def test_it_refuses_a_date_that_contradicts_the_moment(api, program):
    response = api.post("/contacts", contact_body(occurred_at="2025-03-05T10:00:00+00:00"), as_="worker_a")
    assert (response.status_code, _fields(response)) == (422, {"date"})


def test_it_lists_contacts_of_the_users_sites_with_filters_and_stable_pages(api, program, record_contact):
    import datetime as dt

    for day in range(1, 8):
        record_contact(program.site_a, RAW, when=dt.date(2025, 3, day))
    record_contact(program.site_b, RAW, when=dt.date(2025, 3, 3))
    everything = api.get("/contacts?limit=500", as_="worker_a").json()
    assert everything["count"] == 7
    assert {c["site"] for c in everything["items"]} == {"NA1"}
    dates = [c["date"] for c in everything["items"]]
    assert dates == sorted(dates, reverse=True)
    pages = [api.get(f"/contacts?limit=3&offset={o}", as_="worker_a").json()["items"] for o in (0, 3, 6)]
    assert [c["id"] for p in pages for c in p] == [c["id"] for c in everything["items"]]
    window = api.get("/contacts?date_from=2025-03-02&date_to=2025-03-04", as_="worker_a").json()
    assert sorted(c["date"] for c in window["items"]) == ["2025-03-02", "2025-03-03", "2025-03-04"]
    assert api.get("/contacts", as_="manager").json()["count"] == 8
    assert api.get("/contacts?site=SB1", as_="manager").json()["count"] == 1


@pytest.mark.parametrize(("query", "field"), [
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=x", "limit"), ("offset=-1", "offset"),
    ("offset=99999999999999999999", "offset"), ("site=N%00A1", "site"), ("date_from=2025-02-30", "date_from"),
    ("date_from=2025-03-05&date_to=2025-03-01", "date_to"), ("site=SB1", "site"), ("site=NOPE", "site"),
])
def test_it_names_the_bad_list_parameter(api, program, query, field):
    response = api.get(f"/contacts?{query}", as_="worker_a")
    assert response.status_code == 422
    assert _fields(response) == {field}
