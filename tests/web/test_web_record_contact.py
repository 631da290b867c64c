"""Recording a contact for a client already known at the user's sites."""

from __future__ import annotations

import uuid

from django.urls import reverse
from web_helpers import contact_post

from salus.core.models import AuditEvent
from salus.services.models import Contact
from salus.stock.models import StockLevel


def url(client_id):
    return reverse("web-contact-new", args=[client_id])


def test_it_preselects_the_users_only_site_and_now(program, login, record_contact):
    client = record_contact(program.site_a).client
    response = login(program.worker_a).get(url(client.id))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.fields["site"].initial == "NA1"
    assert form.fields["occurred_at"].initial is not None
    assert 'data-step="1"' in response.content.decode()


def test_it_records_the_contact_its_services_and_stock(program, login, record_contact):
    client = record_contact(program.site_a).client
    data = contact_post(program.site_a, uuid.uuid4(), hiv_test_result="negative", art_status="", education="on",
                        referrals=["ost", "legal"], released_from_detention_on="2026-01-10", uses_alone="yes",
                        mixes_depressants="no", notes="Asked about the night shelter")
    response = login(program.worker_a).post(url(client.id), data)
    assert response.status_code == 302
    contact = Contact.objects.get(id=data["contact_id"])
    assert contact.client == client and contact.hiv_tested and contact.hiv_result == "negative"
    assert contact.education and contact.uses_alone is True and contact.mixes_depressants is False
    assert contact.overdose_since_last_contact is None
    assert sorted(r.service for r in contact.referrals.all()) == ["legal", "ost"]
    assert contact.notes == "Asked about the night shelter"
    assert StockLevel.objects.get(site=program.site_a, commodity_id="syringe").quantity == -10
    assert AuditEvent.objects.filter(action="contact.record", object_id=str(contact.id)).exists()


def test_it_records_one_contact_on_double_submit(program, login, record_contact):
    client = record_contact(program.site_a).client
    c = login(program.worker_a)
    data = contact_post(program.site_a, uuid.uuid4())
    assert c.post(url(client.id), data).status_code == 302
    assert c.post(url(client.id), data).status_code == 302
    assert Contact.objects.filter(id=data["contact_id"]).count() == 1
    assert StockLevel.objects.get(site=program.site_a, commodity_id="syringe").quantity == -10


def test_it_shows_a_reused_contact_id_as_an_error(program, login, record_contact):
    client = record_contact(program.site_a).client
    c = login(program.worker_a)
    data = contact_post(program.site_a, uuid.uuid4())
    c.post(url(client.id), data)
    response = c.post(url(client.id), dict(data, syringes_given="11"))
    assert response.status_code == 200
    assert "already used for a different contact" in response.content.decode()


def test_it_shows_errors_inline_and_never_fails(program, login, record_contact):
    client = record_contact(program.site_a).client
    c = login(program.worker_a)
    bad = contact_post(program.site_a, "not-a-uuid", syringes_given="lots", occurred_at="yesterday",
                       hiv_test_result="maybe", referrals=["nowhere"])
    response = c.post(url(client.id), bad)
    assert response.status_code == 200
    assert response.context["form"].errors.keys() >= {
        "contact_id", "syringes_given", "occurred_at", "hiv_test_result", "referrals"}
    assert Contact.objects.filter(client=client).count() == 1


def test_it_refuses_a_client_at_another_site(program, login, record_contact):
    client = record_contact(program.site_a).client
    c = login(program.worker_b)
    assert c.get(url(client.id)).status_code == 404
    assert c.post(url(client.id), contact_post(program.site_b, uuid.uuid4())).status_code == 404


def test_it_refuses_recording_at_a_site_not_the_users(program, login, record_contact):
    client = record_contact(program.site_a).client
    record_contact(program.site_b)  # the client is known at both sites for this check
    from salus.clients.actions import link_client_to_site

    link_client_to_site(client, program.site_b, client.first_contact_date)
    response = login(program.worker_b).post(url(client.id), contact_post(program.site_a, uuid.uuid4()))
    assert response.status_code == 403


def test_it_lets_the_teammate_record(program, login, record_contact):
    client = record_contact(program.site_a).client
    response = login(program.coordinator_a).post(url(client.id), contact_post(program.site_a, uuid.uuid4()))
    assert response.status_code == 302


def test_it_refuses_the_analyst(program, login, record_contact):
    client = record_contact(program.site_a).client
    assert login(program.analyst).get(url(client.id)).status_code == 403


def test_it_answers_404_for_an_unknown_client(program, login):
    assert login(program.worker_a).get(url(uuid.uuid4())).status_code == 404


def test_it_reads_the_time_in_the_programs_time_zone(program, login, record_contact, monkeypatch, tmp_path):
    from salus.core import config

    (tmp_path / "program.toml").write_text('timezone = "Asia/Kabul"\n')
    monkeypatch.setenv("SALUS_PROGRAM_CONFIG", str(tmp_path / "program.toml"))
    config.reset_cache()
    client = record_contact(program.site_a).client
    data = contact_post(program.site_a, uuid.uuid4(), occurred_at="2026-01-15T02:00")
    assert login(program.worker_a).post(url(client.id), data).status_code == 302
    contact = Contact.objects.get(id=data["contact_id"])
    # 02:00 in Kabul (UTC+4:30) is 21:30 UTC the day before; the contact's date is Kabul's.
    assert contact.occurred_at.isoformat() == "2026-01-14T21:30:00+00:00"
    assert contact.date.isoformat() == "2026-01-15"


def test_it_shows_the_overdose_risk_prompts_while_recording(program, login, record_contact):
    import datetime as dt

    from django.utils import timezone

    today = timezone.localdate()
    client = record_contact(
        program.site_a, raw_uic="RELE1990F", when=today, released_from_detention_on=today - dt.timedelta(days=5)
    ).client
    body = login(program.worker_a).get(url(client.id)).content.decode()
    assert 'data-rule="released"' in body, "a client released 5 days ago must be prompted while recording"


def test_it_asks_for_language_hints_on_the_notes(program, login, record_contact):
    client = record_contact(program.site_a).client
    body = login(program.worker_a).get(url(client.id)).content.decode()
    assert reverse("care-language-check") in body and 'id="notes-language"' in body
