"""Clients through the API: look-up by raw code, one client's record, registration."""

import datetime as dt
import json

import pytest

from salus.clients.models import Client, ClientSite
from salus.core.models import AuditEvent

RAW = "MAJO1985M"


def _fields(response) -> set[str]:
    return {item["field"] for item in json.loads(response.content)["detail"]}


def test_it_finds_a_client_by_raw_code_among_visible_clients_only(api, program, record_contact):
    mine = record_contact(program.site_a, RAW).client
    record_contact(program.site_b, "FATI1990F")
    found = api.get(f"/clients?uic={RAW}", as_="worker_a").json()
    assert [c["id"] for c in found["items"]] == [str(mine.id)]
    # Normalised the same way as at registration: case and separators do not matter.
    assert api.get("/clients?uic=majo-1985-m", as_="worker_a").json()["count"] == 1
    # Site B's client exists but is not worker_a's business: not found, as if unknown.
    assert api.get("/clients?uic=FATI1990F", as_="worker_a").json()["count"] == 0
    assert api.get("/clients?uic=ZZZZ1970X", as_="worker_a").json()["count"] == 0
    assert AuditEvent.objects.filter(action="client.lookup", object_id=str(mine.id)).count() == 2


def test_it_finds_a_client_by_a_code_sent_in_the_body(api, program, record_contact):
    mine = record_contact(program.site_a, RAW).client
    record_contact(program.site_b, "FATI1990F")
    body = api.post("/clients/lookup", {"uic": "majo-1985-m"}, as_="worker_a").json()
    assert body["found"] and body["client"]["id"] == str(mine.id)
    assert body["client"]["sites"] == ["NA1"]
    # Another site's client is not found, as if unknown; the code is never echoed.
    for raw in ("FATI1990F", "ZZZZ1970X"):
        response = api.post("/clients/lookup", {"uic": raw}, as_="worker_a")
        assert response.json() == {"found": False, "client": None}
        assert raw.encode() not in response.content
    response = api.post("/clients/lookup", {"uic": "MAJO19X5M"}, as_="worker_a")
    assert response.status_code == 422 and _fields(response) == {"uic"}
    assert AuditEvent.objects.filter(action="client.lookup", object_id=str(mine.id)).count() == 1


@pytest.mark.parametrize("bad", ["", "ABC", "MAJO19X5M", "MAJO1985Q", "12AB1985M"])
def test_it_names_uic_when_the_code_does_not_fit_the_recipe(api, program, bad):
    response = api.get(f"/clients?uic={bad}", as_="worker_a")
    assert response.status_code == 422
    assert _fields(response) == {"uic"}
    if bad:
        assert bad.encode() not in response.content


def test_it_shows_a_client_with_contacts_at_the_users_sites_only(api, program, record_contact):
    here = record_contact(program.site_a, RAW, when=dt.date(2025, 3, 1))
    record_contact(program.site_b, RAW, when=dt.date(2025, 3, 2))
    response = api.get(f"/clients/{here.client_id}", as_="worker_a")
    assert response.status_code == 200
    body = response.json()
    assert [c["id"] for c in body["contacts"]] == [str(here.id)]
    assert (body["contacts_total"], body["sites"]) == (1, ["NA1"])
    assert "uic" not in body and "uic_hash" not in body
    assert AuditEvent.objects.filter(action="client.view", object_id=str(here.client_id)).count() == 1
    assert api.get(f"/clients/{here.client_id}", as_="manager").json()["contacts_total"] == 2


@pytest.mark.parametrize(("persona", "status"), [
    ("worker_a", 200), ("coordinator_a", 200), ("clinician_a", 200), ("admin", 200),
    ("worker_b", 404), ("analyst", 403), (None, 401),
])
def test_it_guards_one_clients_record(api, program, record_contact, persona, status):
    client = record_contact(program.site_a, RAW).client
    assert api.get(f"/clients/{client.id}", as_=persona).status_code == status
    assert AuditEvent.objects.filter(action="client.view").count() == (1 if status == 200 else 0)


def test_it_gives_404_for_an_unknown_client(api, program):
    assert api.get("/clients/2f6a3a40-0000-4000-8000-000000000000", as_="worker_a").status_code == 404


def test_it_lists_clients_seen_at_a_site_in_a_period(api, program, record_contact):
    early = record_contact(program.site_a, RAW, when=dt.date(2025, 1, 10)).client
    late = record_contact(program.site_a, "FATI1990F", when=dt.date(2025, 6, 10)).client
    record_contact(program.site_b, "ZAHR2000F", when=dt.date(2025, 6, 10))
    ids = lambda q: [c["id"] for c in api.get(f"/clients?{q}", as_="worker_a").json()["items"]]  # noqa: E731
    assert ids("") == [str(early.id), str(late.id)]
    assert ids("date_from=2025-06-01") == [str(late.id)]
    assert ids("date_to=2025-02-01") == [str(early.id)]
    assert len(ids("limit=500")) == 2
    assert api.get("/clients", as_="manager").json()["count"] == 3
    assert api.get("/clients?site=SB1", as_="manager").json()["count"] == 1
    assert _fields(api.get("/clients?site=SB1", as_="worker_a")) == {"site"}


def test_it_registers_a_client_once(api, program):
    body = {"site": "NA1", "uic": RAW, "injects": True, "substances": ["heroin", "benzodiazepines"]}
    first = api.post("/clients", body, as_="worker_a")
    again = api.post("/clients", body, as_="coordinator_a")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    client = Client.objects.get()
    assert (client.sex, client.birth_year, client.injects) == ("M", 1985, True)
    assert client.substances == ["heroin", "benzodiazepines"]
    assert ClientSite.objects.filter(client=client, site=program.site_a).exists()
    assert RAW.encode() not in first.content


@pytest.mark.parametrize(("field", "value"), [
    ("uic", "AB"), ("site", "NOPE"), ("sex", "F"), ("birth_year", 1990), ("substances", ["glue"]),
    ("substances", "heroin"), ("injects", "maybe"), ("consent_follow_up", 3), ("name", "x"),
])
def test_it_names_bad_registration_input(api, program, field, value):
    body = {"site": "NA1", "uic": RAW, field: value}
    response = api.post("/clients", body, as_="worker_a")
    assert response.status_code == 422
    # A bad list item is named with its position, e.g. "substances.0".
    assert any(f == field or f.startswith(field + ".") for f in _fields(response))
    assert Client.objects.count() == 0


def test_it_refuses_registration_at_another_site(api, program):
    assert api.post("/clients", {"site": "NA1", "uic": RAW}, as_="worker_b").status_code == 403
    assert api.post("/clients", {"site": "NA1", "uic": RAW}, as_="analyst").status_code == 403
    assert Client.objects.count() == 0
