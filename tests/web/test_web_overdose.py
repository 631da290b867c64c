"""Recording an overdose event from the client's page."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from salus.services.models import OverdoseEvent


def data(site="NA1", **overrides):
    d = {"site": site, "date": timezone.localdate().isoformat(), "involvement": "experienced", "naloxone_kits_used": "2",
         "outcome": "survived", "emergency_called": "on", "details": "Friend gave naloxone"}
    d.update(overrides)
    return d


def test_it_records_an_overdose(program, login, record_contact):
    client = record_contact(program.site_a).client
    response = login(program.worker_a).post(reverse("web-overdose-new", args=[client.id]), data())
    assert response.status_code == 302
    event = OverdoseEvent.objects.get(client=client)
    assert event.naloxone_given and event.naloxone_kits_used == 2 and event.emergency_called
    assert event.details == "Friend gave naloxone"


def test_it_refuses_a_future_date_inline(program, login, record_contact):
    client = record_contact(program.site_a).client
    response = login(program.worker_a).post(reverse("web-overdose-new", args=[client.id]), data(date="2999-01-01"))
    assert response.status_code == 200
    assert "cannot be in the future" in response.content.decode()
    assert not OverdoseEvent.objects.exists()


def test_it_refuses_the_outsider(program, login, record_contact):
    client = record_contact(program.site_a).client
    assert login(program.worker_b).post(reverse("web-overdose-new", args=[client.id]), data("SB1")).status_code == 404


def test_it_refuses_the_analyst(program, login, record_contact):
    client = record_contact(program.site_a).client
    assert login(program.analyst).get(reverse("web-overdose-new", args=[client.id])).status_code == 403
