"""Starting an OST episode, recording a dose and ending the episode from the client's page."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from salus.services.actions import do_start_ost_episode
from salus.services.models import OSTDose, OSTEpisode


def start_episode(program, client, days_ago=10):
    start = timezone.localdate() - dt.timedelta(days=days_ago)
    return do_start_ost_episode("test", client=client, site=program.site_a, medication="methadone", start_date=start)


def test_it_starts_an_episode(program, login, record_contact):
    client = record_contact(program.site_a).client
    data = {"site": "NA1", "medication": "buprenorphine", "start_date": timezone.localdate().isoformat()}
    response = login(program.clinician_a).post(reverse("web-ost-start", args=[client.id]), data)
    assert response.status_code == 302
    assert OSTEpisode.objects.get(client=client).medication == "buprenorphine"


def test_it_refuses_a_second_open_episode_inline(program, login, record_contact):
    client = record_contact(program.site_a).client
    start_episode(program, client)
    data = {"site": "NA1", "medication": "methadone", "start_date": timezone.localdate().isoformat()}
    response = login(program.clinician_a).post(reverse("web-ost-start", args=[client.id]), data)
    assert response.status_code == 200
    assert "already has an open OST episode" in response.content.decode()


def test_it_records_a_dose(program, login, record_contact):
    episode = start_episode(program, record_contact(program.site_a).client)
    data = {"date": timezone.localdate().isoformat(), "dose_mg": "60.5", "phase": "maintenance", "take_home_doses": "2"}
    response = login(program.clinician_a).post(reverse("web-ost-dose", args=[episode.id]), data)
    assert response.status_code == 302
    dose = OSTDose.objects.get(episode=episode)
    assert (str(dose.dose_mg), dose.take_home_doses) == ("60.50", 2)


def test_it_refuses_a_dose_before_the_episode_inline(program, login, record_contact):
    episode = start_episode(program, record_contact(program.site_a).client, days_ago=2)
    data = {"date": (timezone.localdate() - dt.timedelta(days=5)).isoformat(), "dose_mg": "60", "phase": "induction",
            "take_home_doses": "0"}
    response = login(program.clinician_a).post(reverse("web-ost-dose", args=[episode.id]), data)
    assert response.status_code == 200
    assert "within the episode" in response.content.decode()


def test_it_ends_an_episode(program, login, record_contact):
    episode = start_episode(program, record_contact(program.site_a).client)
    data = {"end_date": timezone.localdate().isoformat(), "end_reason": "voluntary"}
    assert login(program.manager).post(reverse("web-ost-end", args=[episode.id]), data).status_code == 302
    episode.refresh_from_db()
    assert episode.end_reason == "voluntary" and episode.end_date == timezone.localdate()


def test_it_refuses_workers(program, login, record_contact):
    client = record_contact(program.site_a).client
    episode = start_episode(program, client)
    c = login(program.worker_a)
    assert c.get(reverse("web-ost-start", args=[client.id])).status_code == 403
    assert c.get(reverse("web-ost-dose", args=[episode.id])).status_code == 403
    assert c.get(reverse("web-ost-end", args=[episode.id])).status_code == 403


def test_it_hides_another_sites_episode(program, login, record_contact):
    from salus.core.actions import do_create_user

    clinician_b = do_create_user("test", username="clinician_b", role="clinician", sites=[program.site_b], password="x" * 12)
    episode = start_episode(program, record_contact(program.site_a).client)
    c = login(clinician_b)
    assert c.get(reverse("web-ost-dose", args=[episode.id])).status_code == 404
    assert c.get(reverse("web-ost-start", args=[episode.client_id])).status_code == 404


def test_it_refuses_the_analyst(program, login, record_contact):
    client = record_contact(program.site_a).client
    assert login(program.analyst).get(reverse("web-ost-start", args=[client.id])).status_code == 403
