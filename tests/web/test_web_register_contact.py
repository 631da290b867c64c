"""Registering a new client from a signed UIC token and recording the first contact."""

from __future__ import annotations

import re
import uuid

import time_machine
from django.urls import reverse
from web_helpers import UIC_PARTS, contact_post

from salus.clients.models import Client
from salus.core.models import AuditEvent
from salus.services.models import Contact

URL = reverse("web-client-register")


def token_for(c, parts=UIC_PARTS) -> str:
    body = c.post(reverse("web-client-find"), parts).content.decode()
    return re.search(r'name="token" value="([^"]+)"', body).group(1)


def test_it_registers_the_client_and_records_the_contact(program, login):
    c = login(program.worker_a)
    data = contact_post(program.site_a, uuid.uuid4(), token=token_for(c), injects="yes",
                        substances=["heroin", "benzodiazepines"], consent_follow_up="on", referrals=["hiv_testing"])
    response = c.post(URL, data)
    client = Client.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web-client", args=[client.id])
    assert (client.sex, client.birth_year, client.injects) == ("M", 1985, True)
    assert client.substances == ["heroin", "benzodiazepines"]
    assert client.consent_follow_up is True
    contact = Contact.objects.get()
    assert (contact.site, contact.syringes_given, contact.staff) == (program.site_a, 10, program.worker_a)
    assert contact.referrals.get().service == "hiv_testing"
    assert AuditEvent.objects.filter(action="client.register").count() == 1


def test_it_records_one_contact_when_submitted_twice(program, login):
    c = login(program.worker_a)
    data = contact_post(program.site_a, uuid.uuid4(), token=token_for(c))
    first, second = c.post(URL, data), c.post(URL, data)
    assert first.status_code == second.status_code == 302
    assert Contact.objects.count() == 1 and Client.objects.count() == 1


def test_it_refuses_a_forged_token(program, login):
    c = login(program.worker_a)
    token = token_for(c)
    response = c.post(URL, contact_post(program.site_a, uuid.uuid4(), token=token[:-3] + "abc"), follow=True)
    assert "The search has expired" in response.content.decode()
    assert not Contact.objects.exists()


def test_it_refuses_an_expired_token(program, login):
    c = login(program.worker_a)
    with time_machine.travel("2026-01-15 08:00Z", tick=False):
        token = token_for(c)
    with time_machine.travel("2026-01-15 09:00Z", tick=False):
        # A new session, so that the idle time-out is not what refuses the request.
        c.logout()
        c.force_login(program.worker_a)
        response = c.post(URL, contact_post(program.site_a, uuid.uuid4(), token=token))
    assert response.status_code == 302 and response["Location"] == reverse("web-client-find")
    assert not Contact.objects.exists()


def test_it_shows_validation_errors_inline(program, login):
    c = login(program.worker_a)
    response = c.post(URL, contact_post(program.site_a, uuid.uuid4(), token=token_for(c), syringes_given="-2"))
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 0" in response.content.decode()
    assert not Client.objects.exists()


def test_it_shows_validation_errors_in_arabic(program, login):
    c = login(program.worker_a)
    token = token_for(c)
    c.post(reverse("set_language"), {"language": "ar"})
    response = c.post(URL, contact_post(program.site_a, uuid.uuid4(), token=token, occurred_at="2999-01-01T10:00"))
    assert response.status_code == 200
    assert "لا يمكن أن تكون الزيارة في المستقبل." in response.content.decode()


def test_it_refuses_recording_at_another_site(program, login):
    c = login(program.worker_b)
    response = c.post(URL, contact_post(program.site_a, uuid.uuid4(), token=token_for(c)))
    assert response.status_code == 403
    assert not Client.objects.exists()


def test_it_refuses_the_analyst(program, login):
    response = login(program.analyst).post(URL, contact_post(program.site_a, uuid.uuid4(), token="x"))
    assert response.status_code == 403


def test_it_accepts_only_post(program, login):
    assert login(program.worker_a).get(URL).status_code == 405
