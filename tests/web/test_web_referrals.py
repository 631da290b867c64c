"""Referrals due for follow-up and recording their outcome (htmx and plain form posts)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.urls import reverse
from django.utils import timezone

from salus.core.config import program_config
from salus.services.actions import do_create_referral
from salus.services.models import Referral

LIST = reverse("web-referrals")


def make_referral(site, record_contact, days_ago=30, service="hiv_care"):
    client = record_contact(site).client
    made_on = timezone.localdate() - dt.timedelta(days=days_ago)
    return do_create_referral("test", client=client, site=site, service=service, made_on=made_on)


def update_url(referral):
    return reverse("web-referral-update", args=[referral.id])


def outcome(referral, status="attended", outcome_on=None):
    prefix = str(referral.id)
    return {f"{prefix}-status": status, f"{prefix}-outcome_on": (outcome_on or timezone.localdate()).isoformat()}


def test_it_lists_open_referrals_due_for_follow_up(program, login, record_contact):
    due = make_referral(program.site_a, record_contact, days_ago=program_config().referral_follow_up_days)
    make_referral(program.site_a, record_contact, days_ago=1)
    response = login(program.worker_a).get(LIST)
    assert [r.id for r, _form in response.context["rows"]] == [due.id]


def test_it_lists_every_open_referral_on_request(program, login, record_contact):
    make_referral(program.site_a, record_contact, days_ago=30)
    make_referral(program.site_a, record_contact, days_ago=1)
    assert len(login(program.worker_a).get(LIST + "?show=open").context["rows"]) == 2


def test_it_leaves_out_other_sites_referrals(program, login, record_contact):
    make_referral(program.site_b, record_contact)
    assert login(program.worker_a).get(LIST).context["rows"] == []


def test_it_updates_the_status_through_htmx(program, login, record_contact):
    referral = make_referral(program.site_a, record_contact)
    response = login(program.worker_a).post(update_url(referral), outcome(referral, "not_attended"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert "Not attended" in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == Referral.Status.NOT_ATTENDED and referral.outcome_on == timezone.localdate()


def test_it_updates_the_status_through_a_plain_post(program, login, record_contact):
    referral = make_referral(program.site_a, record_contact)
    response = login(program.coordinator_a).post(update_url(referral), outcome(referral, "lost"))
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == "lost"


def test_it_refuses_an_outcome_before_the_referral(program, login, record_contact):
    referral = make_referral(program.site_a, record_contact, days_ago=5)
    early = timezone.localdate() - dt.timedelta(days=10)
    response = login(program.worker_a).post(update_url(referral), outcome(referral, outcome_on=early), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "cannot be before the referral was made" in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == "made"


def test_it_refuses_an_unknown_status(program, login, record_contact):
    referral = make_referral(program.site_a, record_contact)
    response = login(program.worker_a).post(update_url(referral), outcome(referral, "made"))
    assert response.status_code == 200
    referral.refresh_from_db()
    assert referral.status == "made"


def test_it_refuses_the_outsider(program, login, record_contact):
    referral = make_referral(program.site_a, record_contact)
    assert login(program.worker_b).post(update_url(referral), outcome(referral)).status_code == 404
    referral.refresh_from_db()
    assert referral.status == "made"


def test_it_refuses_the_analyst(program, login, record_contact):
    referral = make_referral(program.site_a, record_contact)
    c = login(program.analyst)
    assert c.get(LIST).status_code == 403
    assert c.post(update_url(referral), outcome(referral)).status_code == 403


def test_it_answers_404_for_an_unknown_referral(program, login):
    assert login(program.worker_a).post(reverse("web-referral-update", args=[uuid.uuid4()]), {}).status_code == 404
