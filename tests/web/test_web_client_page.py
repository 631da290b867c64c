"""The client's page: timeline, referrals, OST, overdoses; clinical redaction; audit."""

from __future__ import annotations

import datetime as dt
import uuid

from django.urls import reverse
from django.utils import timezone

from salus.core.models import AuditEvent
from salus.services.actions import do_record_overdose, do_start_ost_episode


def url(client_id):
    return reverse("web-client", args=[client_id])


def test_it_shows_the_timeline_newest_first(program, login, record_contact):
    now = timezone.now()
    old = record_contact(program.site_a, when=now - dt.timedelta(days=2), syringes_given=3)
    new = record_contact(program.site_a, when=now, condoms_given=4)
    response = login(program.worker_a).get(url(old.client_id))
    assert response.status_code == 200
    assert [c.id for c in response.context["contacts"]] == [new.id, old.id]
    body = response.content.decode()
    assert "3 syringes given" in body and "4 condoms given" in body


def test_it_shows_the_reference_never_the_uic_hash(program, login, record_contact):
    client = record_contact(program.site_a).client
    body = login(program.worker_a).get(url(client.id)).content.decode()
    assert client.reference in body
    assert client.uic_hash not in body
    assert "MAJO" not in body


def test_it_writes_a_client_view_audit_row(program, login, record_contact):
    client = record_contact(program.site_a).client
    login(program.worker_a).get(url(client.id))
    event = AuditEvent.objects.get(action="client.view")
    assert event.object_id == str(client.id) and event.actor == program.worker_a


def test_it_hides_clinical_results_without_clinical_view(program, login, record_contact):
    client = record_contact(program.site_a, hiv_test_result="positive", art_status="on_art").client
    body = login(program.worker_a).get(url(client.id)).content.decode()
    assert "Positive" not in body and "On ART" not in body
    assert "result hidden" in body


def test_it_shows_clinical_results_with_clinical_view(program, login, record_contact):
    client = record_contact(program.site_a, hiv_test_result="positive", art_status="on_art").client
    body = login(program.clinician_a).get(url(client.id)).content.decode()
    assert "Positive" in body and "On ART" in body


def test_it_leaves_out_contacts_at_other_sites(program, login, record_contact):
    at_a = record_contact(program.site_a, syringes_given=2)
    record_contact(program.site_b, syringes_given=99)
    response = login(program.worker_a).get(url(at_a.client_id))
    assert [c.id for c in response.context["contacts"]] == [at_a.id]
    assert "99 syringes" not in response.content.decode()


def test_it_shows_ost_and_overdoses(program, login, record_contact):
    client = record_contact(program.site_a).client
    today = timezone.localdate()
    do_start_ost_episode("test", client=client, site=program.site_a, medication="methadone", start_date=today)
    do_record_overdose("test", client=client, site=program.site_a, date=today, involvement="witnessed",
                       naloxone_given=True, naloxone_kits_used=1, outcome="survived", emergency_called=False)
    body = login(program.clinician_a).get(url(client.id)).content.decode()
    assert "Methadone" in body and "Witnessed it" in body and "Record a dose" in body


def test_it_refuses_the_outsider(program, login, record_contact):
    client = record_contact(program.site_a).client
    assert login(program.worker_b).get(url(client.id)).status_code == 404
    assert not AuditEvent.objects.filter(action="client.view").exists()


def test_it_refuses_the_analyst(program, login, record_contact):
    client = record_contact(program.site_a).client
    assert login(program.analyst).get(url(client.id)).status_code == 403


def test_it_lets_the_manager_see_every_site(program, login, record_contact):
    client = record_contact(program.site_b).client
    assert login(program.manager).get(url(client.id)).status_code == 200


def test_it_answers_404_for_a_merged_or_unknown_client(program, login):
    assert login(program.worker_a).get(url(uuid.uuid4())).status_code == 404


def test_it_shows_times_in_the_programs_time_zone(program, login, record_contact, monkeypatch, tmp_path):
    from salus.core import config

    (tmp_path / "program.toml").write_text('timezone = "Asia/Kabul"\n')
    monkeypatch.setenv("SALUS_PROGRAM_CONFIG", str(tmp_path / "program.toml"))
    config.reset_cache()
    when = dt.datetime(2026, 1, 14, 21, 30, tzinfo=dt.UTC)
    client = record_contact(program.site_a, when=when).client
    body = login(program.worker_a).get(url(client.id)).content.decode()
    assert "Jan. 15, 2026, 2 a.m." in body
